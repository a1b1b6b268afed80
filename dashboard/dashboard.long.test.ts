// The dashboard in real Chromium against a real local worker (`wrangler dev`, fresh state) seeded
// through the API: every page renders the seeded runs, plots carry the expected points, the sample
// viewer shows each r's own completion, the compare page shows the seeded delta, bad ids give a
// message, a running run updates live. Screenshots of every page go to test-output/dashboard/.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mcnemarExact } from "../evals/stats/mcnemar.ts";
import { launchChromium } from "../runner/browser/chromium.ts";
import { migratedState } from "../tests/migrated-state.ts";
import { type LocalApi, startLocalApi, unusedPort } from "../worker/dev.ts";
import {
  CAPPED_MAX_GEN_TOKS,
  CORRECT,
  DOCS,
  PRIVATE_SOURCE_PATH,
  RECURRENCES,
  retrofitCheckpoint,
  type Seeded,
  type SeededExtras,
  type SeededGeneral,
  type SeededTriage,
  seed,
  seedComparisons,
  seedGeneral,
  seedTriage,
} from "./testing/seed.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const shots = join(root, "test-output/dashboard");
const VIEWPORTS = {
  laptop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
  wide: { width: 1366, height: 900 },
} as const;

let api: LocalApi;
let seeded: Seeded;
let extras: SeededExtras;
let general: SeededGeneral;
let browser: Browser;
let persistTo: string;
let triage: SeededTriage;

interface Opened {
  page: Page;
  context: BrowserContext;
  errors: string[];
}

/** Opens `path` at a viewport; console errors and page errors are collected. */
async function open(
  path: string,
  viewport: keyof typeof VIEWPORTS = "laptop",
  token?: string,
): Promise<Opened> {
  return openAs(path, { viewport: VIEWPORTS[viewport], token });
}

/** Saves a full-page screenshot; first checks the page is no wider than its viewport. */
async function screenshot(page: Page, name: string): Promise<void> {
  const [scrollWidth, viewport] = await page.evaluate(() => [
    document.documentElement.scrollWidth,
    window.innerWidth,
  ]);
  expect(scrollWidth, `${name} scrolls sideways`).toBeLessThanOrEqual(viewport);
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** The marks of one plot: `figure[data-plot=…] g.mark-<label> > *`. */
function marks(page: Page, plot: string, label: string, within = "body") {
  return page.locator(`${within} figure[data-plot="${plot}"] g.mark-${label} > *`);
}

/** Every mark of `label` in `plot` lies inside its plot's drawing area (not off the axes). */
async function expectInside(page: Page, plot: string, label: string): Promise<void> {
  const outside = await page
    .locator(`figure[data-plot="${plot}"]`)
    .first()
    .evaluate((fig, cls) => {
      const marks = [...fig.querySelectorAll(`g.${cls} > *`)];
      const svg = marks[0]?.closest("svg");
      if (!svg) return ["no marks"];
      const box = svg.getBoundingClientRect();
      return marks
        .map((m) => m.getBoundingClientRect())
        .filter(
          (r) =>
            r.top < box.top || r.bottom > box.bottom || r.left < box.left || r.right > box.right,
        )
        .map((r) => `${r.left},${r.top}`);
    }, `mark-${label}`);
  expect(outside).toEqual([]);
}

beforeAll(async () => {
  rmSync(shots, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });
  persistTo = await migratedState("evals-dashboard-");
  // startLocalApi builds the dashboard bundles before it starts wrangler dev. Checkpoint A is a
  // real export (its unrolled baseline is cut from the same source), so that a node runner can
  // score its general run. Chromium, the export and the API start side by side.
  let checkpointA: Awaited<ReturnType<typeof retrofitCheckpoint>>;
  [api, checkpointA, browser] = await Promise.all([
    unusedPort().then((port) => startLocalApi({ port, persistTo, quiet: true, migrated: true })),
    retrofitCheckpoint(),
    launchChromium(),
  ]);
  // Before `seed`: `seed` leaves a run with an unanswered shard that no other runner may take.
  extras = await seedComparisons(api.url, api.adminToken, checkpointA);
  triage = await seedTriage(api.url, api.adminToken);
  general = await seedGeneral(api.url, api.adminToken, checkpointA);
  seeded = await seed(api.url, api.adminToken, checkpointA);
});

/**
 * One <h1>, every plot captioned, and no serious or critical axe-core violation (axe injected from
 * node_modules, run on the page as it is).
 */
async function expectAccessible(page: Page, label: string): Promise<void> {
  expect(await page.locator("h1").count(), `${label}: one h1`).toBe(1);
  const uncaptioned = await page
    .locator("figure.plot")
    .evaluateAll((figs) => figs.filter((f) => !f.querySelector("figcaption")?.textContent).length);
  expect(uncaptioned, `${label}: plots without a caption`).toBe(0);
  await page.addScriptTag({ path: join(root, "node_modules/axe-core/axe.min.js") });
  const violations = await page.evaluate(async () => {
    type Result = { violations: { id: string; impact: string; nodes: { target: string[] }[] }[] };
    type Options = { resultTypes: string[] };
    const { axe } = window as unknown as {
      axe: { run: (context: Document, options: Options) => Promise<Result> };
    };
    // Every rule still runs; only the violations get their nodes' selectors worked out.
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
  expect(violations, label).toEqual([]);
}

/** `62.5% (30.6%–86.3%)`: k of n and its 95% Wilson score interval, computed here from the formula. */
function wilsonText(k: number, n: number): string {
  const z = 1.959963984540054;
  const p = k / n;
  const centre = (p + z ** 2 / (2 * n)) / (1 + z ** 2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z ** 2 / (4 * n ** 2))) / (1 + z ** 2 / n);
  const pct = (x: number) => `${(100 * Math.min(1, Math.max(0, x))).toFixed(1)}%`;
  return `${pct(p)} (${pct(centre - half)}–${pct(centre + half)})`;
}

/**
 * lm-eval's multiple-choice rule on one document: `acc` when the largest summed log-likelihood is
 * the gold choice's, `acc_norm` when the largest log-likelihood per character of the choice text
 * (code points, without the " " delimiter) is; like np.argmax, the first of equal values wins.
 */
function multipleChoice(logprobs: number[], choices: string[], gold: number) {
  const argmax = (xs: number[]) => xs.reduce((best, x, i) => (x > xs[best] ? i : best), 0);
  return {
    acc: Number(argmax(logprobs) === gold),
    accNorm: Number(argmax(logprobs.map((ll, i) => ll / [...choices[i]].length)) === gold),
  };
}

/**
 * What the general run must show, from what its runner posted and the datasets alone: ARC-Easy's
 * acc and acc_norm (gold = the answerKey's place in choices.label, continuations " " + choice) and
 * lambada's acc (the target is the greedy continuation) and perplexity, exp(−mean loglikelihood).
 */
function generalExpectations() {
  const rows = (task: string) =>
    readFileSync(join(root, `../shared/datasets/${task}/test.jsonl`), "utf8")
      .split("\n")
      .slice(0, DOCS)
      .map((line) => JSON.parse(line));
  const arcRows = rows("arc_easy");
  const lambadaRows = rows("lambada_openai");
  const arc = { acc: {} as Record<number, number>, accNorm: {} as Record<number, number> };
  const lambada = {
    acc: {} as Record<number, number>,
    perplexity: {} as Record<number, number>,
  };
  for (const r of RECURRENCES) {
    arc.acc[r] = arc.accNorm[r] = lambada.acc[r] = 0;
    let loglikelihood = 0;
    for (let i = 0; i < DOCS; i++) {
      const mc = general.posted.get(`arc_easy/${r}/${i}`);
      const { choices, answerKey, question } = arcRows[i];
      expect(mc?.requests).toEqual(
        choices.text.map((text: string) => ({
          context: `Question: ${question}\nAnswer:`,
          continuation: ` ${text}`,
        })),
      );
      const scored = multipleChoice(
        mc!.loglikelihoods.map((l) => l.logprob),
        choices.text,
        choices.label.indexOf(answerKey),
      );
      arc.acc[r] += scored.acc;
      arc.accNorm[r] += scored.accNorm;
      const word = general.posted.get(`lambada_openai/${r}/${i}`);
      const words = (lambadaRows[i].text as string).split(" ");
      expect(word?.requests).toEqual([
        { context: words.slice(0, -1).join(" "), continuation: ` ${words.at(-1)}` },
      ]);
      lambada.acc[r] += Number(word!.loglikelihoods[0].is_greedy);
      loglikelihood += word!.loglikelihoods[0].logprob;
    }
    lambada.perplexity[r] = Math.exp(-loglikelihood / DOCS);
  }
  return { arc, lambada };
}

afterAll(async () => {
  await browser?.close();
  await api?.stop();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

describe("dashboard", () => {
  it("leaderboard: accuracy at the chosen r with its Wilson interval, comparable runs ranked apart, sortable, filterable, state in the address", async () => {
    const r8 = wilsonText(5, DOCS);
    for (const viewport of ["wide", "phone"] as const) {
      const { page, errors } = await open("/", viewport);
      const rows = page.locator("table.leaderboard tbody tr");
      await rows.first().waitFor();
      // gsm8k_cot_sean (not arithmetic) by default; r = 8, the largest r every recurrent run has.
      expect(await page.locator("h1").allTextContents()).toEqual([
        expect.stringContaining("gsm8k_cot_sean"),
      ]);
      expect(await page.locator('select[name="r"]').inputValue()).toBe("8");
      expect(await rows.count()).toBe(5);
      // Ranked table: B (100% at r = 8), A, the two baselines; the capped run stands apart.
      const ranked = page.locator('table.leaderboard[data-ranked="true"] tbody tr');
      expect(
        await ranked.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-run"))),
      ).toEqual([seeded.runs.b, seeded.runs.a, seeded.runs.flat, extras.runs.unrolled]);
      const apart = page.locator('table.leaderboard[data-ranked="false"]');
      expect(await apart.locator("tbody tr").getAttribute("data-run")).toBe(extras.runs.capped);
      expect(await apart.locator("caption").textContent()).toMatch(
        new RegExp(`differs in token cap.*max ${CAPPED_MAX_GEN_TOKS} tokens`),
      );
      const rowA = page.locator(`tr[data-run="${seeded.runs.a}"]`);
      expect(await rowA.locator("th.model a").first().textContent()).toBe(
        "stories260k-retro-1-3-1",
      );
      expect(await rowA.locator(".checkpoint-facts").textContent()).toContain(
        seeded.checkpoints.a.slice(0, 10),
      );
      const cells = await rowA.locator("td").allTextContents();
      // pick, #, status, acc @ r=8, n, shots, max tok., dataset, r=1, r=2, r=4, r=8, train r, FLOPs
      expect(cells[1]).toBe("2");
      expect(cells[2]).toBe("verified");
      expect(cells[3]).toBe(r8);
      expect(cells.slice(4, 12)).toEqual([
        String(DOCS),
        expect.stringMatching(/^\d+$/),
        "256",
        expect.stringMatching(/^[0-9a-f]{8}$/),
        "25.0%",
        "37.5%",
        "62.5%",
        "62.5%",
      ]);
      // The non-recurrent baseline's r = 1 result stands at r = 8, marked as such.
      expect(await page.locator(`tr[data-run="${seeded.runs.flat}"] td`).nth(3).textContent()).toBe(
        `${wilsonText(1, DOCS)} ‡`,
      );
      // Every column has a header cell.
      for (const table of await page.locator("table.leaderboard").all()) {
        const headers = await table.locator("thead th").count();
        expect(await table.locator("tbody tr").first().locator("td, th").count()).toBe(headers);
      }
      // Plots of the ranked table: A and B (4 + 4 points), the two baselines, each named.
      expect(await marks(page, "accuracy-vs-r", "accuracy").count()).toBe(8);
      expect(await marks(page, "accuracy-vs-flops", "accuracy").count()).toBe(8);
      expect(await marks(page, "accuracy-vs-flops", "flops-ci95").count()).toBe(8);
      expect(await marks(page, "accuracy-vs-flops", "baseline").count()).toBe(2);
      expect(await marks(page, "accuracy-vs-flops", "baseline-ci95").count()).toBe(2);
      expect(await marks(page, "accuracy-vs-flops", "r-labels").count()).toBe(0);
      const flopsFigure = page.locator('figure[data-plot="accuracy-vs-flops"]').first();
      expect(await flopsFigure.locator('li[data-legend="baseline"]').allTextContents()).toEqual([
        "stories260k (non-recurrent) · baseline",
        "stories260k-unrolled (non-recurrent) · baseline",
      ]);
      expect(await flopsFigure.locator(".plot-note").textContent()).toMatch(/FLOPs are counted/);
      expect(await flopsFigure.locator('.plot-note a[href="/flops"]').count()).toBe(1);
      expect(await flopsFigure.locator("svg[aria-label]").count()).toBeGreaterThan(0);
      await expectInside(page, "accuracy-vs-r", "accuracy");
      await expectInside(page, "accuracy-vs-r", "ci95");
      await expectInside(page, "accuracy-vs-flops", "baseline");
      await expectInside(page, "accuracy-vs-flops", "flops-ci95");
      // No table is cut off: at 1366 px every column is in view, on a phone the kept ones are.
      const clipped = await page
        .locator("table.leaderboard")
        .evaluateAll(
          (tables) =>
            tables.filter((t) => t.parentElement!.scrollWidth > t.parentElement!.clientWidth)
              .length,
        );
      expect(clipped).toBe(0);
      await expectAccessible(page, `leaderboard ${viewport}`);
      await screenshot(page, `leaderboard-${viewport}`);
      expect(errors).toEqual([]);
    }

    const { page, context, errors } = await open("/");
    await page.locator("table.leaderboard tbody tr").first().waitFor();
    // Another r re-ranks: at r = 2 A (37.5%) is ahead of B (25%); the capped run has no r = 2.
    await page.selectOption('select[name="r"]', "2");
    expect(page.url()).toContain("r=2");
    expect(
      await page
        .locator('table.leaderboard[data-ranked="true"] tbody tr')
        .evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-run"))),
    ).toEqual([seeded.runs.a, seeded.runs.b, seeded.runs.flat, extras.runs.unrolled]);
    expect(
      await page.locator('table.leaderboard[data-ranked="false"] caption').textContent(),
    ).toMatch(/no result at this r/);
    await page.click('button[data-sort="model"]');
    expect(page.url()).toContain("sort=model&dir=asc");
    const names = await page
      .locator('table.leaderboard[data-ranked="true"] tbody th.model > span > a')
      .allTextContents();
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    await page.selectOption('select[name="family"]', "olmo2");
    expect(page.url()).toContain("family=olmo2");
    expect(await page.locator("table.leaderboard tbody tr").count()).toBe(2);
    // The address alone restores the view.
    const linked = await context.newPage();
    await linked.goto(page.url());
    await linked.locator("table.leaderboard tbody tr").first().waitFor();
    expect(await linked.locator("table.leaderboard tbody tr").count()).toBe(2);
    expect(await linked.locator('select[name="family"]').inputValue()).toBe("olmo2");
    expect(await linked.locator('select[name="r"]').inputValue()).toBe("2");
    await linked.close();
    // Two rows picked: the compare link points at both runs.
    await page.selectOption('select[name="family"]', "");
    await page.check(`tr[data-run="${seeded.runs.a}"] input[type=checkbox]`);
    await page.check(`tr[data-run="${seeded.runs.b}"] input[type=checkbox]`);
    const href = await page.locator("#compare-selected").getAttribute("href");
    expect(href).toContain(seeded.runs.a);
    expect(href).toContain(seeded.runs.b);
    expect(errors).toEqual([]);
  });

  it("compute-matched: the recurrent curve read off at its baselines' FLOPs, interpolated on log FLOPs", async () => {
    const board = (await (
      await fetch(`${api.url}/api/leaderboard?task=gsm8k_cot_sean`)
    ).json()) as {
      tasks: {
        entries: { run_id: string; by_recurrence: { mean_flops: number; accuracy: number }[] }[];
      }[];
    };
    const entry = (run: string) => board.tasks[0].entries.find((e) => e.run_id === run)!;
    const [a1, a2] = entry(seeded.runs.a).by_recurrence;
    const u = entry(extras.runs.unrolled).by_recurrence[0].mean_flops;
    // The unrolled baseline costs more than A at r = 1 and less than at r = 2.
    expect(a1.mean_flops).toBeLessThan(u);
    expect(u).toBeLessThan(a2.mean_flops);
    const t = Math.log(u / a1.mean_flops) / Math.log(a2.mean_flops / a1.mean_flops);
    const expected = a1.accuracy + t * (a2.accuracy - a1.accuracy);

    const { page, errors } = await open("/");
    const section = page.locator("section.compute-matched");
    await section.locator("table.equal-flops").waitFor();
    expect(await section.locator('select[name="matched"]').inputValue()).toBe(seeded.runs.a);
    const rows = section.locator("table.equal-flops tbody tr");
    expect(await rows.count()).toBe(1);
    const a = rows.locator("td").first();
    expect(await a.getAttribute("data-interpolated")).toBe("true");
    expect(Number(await a.getAttribute("data-acc"))).toBeCloseTo(expected, 9);
    expect(await a.textContent()).toMatch(/^≈ /);
    expect(await section.textContent()).toContain("linear interpolation in log FLOPs");
    expect(await marks(page, "compute-matched", "read-off").count()).toBe(1);
    await expectInside(page, "compute-matched", "read-off");

    // The compare page's equal-FLOPs mode reads A off at the unrolled run's FLOPs the same way.
    await page.goto(`${api.url}/compare?a=${seeded.runs.a}&b=${extras.runs.unrolled}&mode=flops`);
    const table = page.locator("table.equal-flops");
    await table.waitFor();
    expect(await table.locator("tbody tr").count()).toBe(1);
    expect(Number(await table.locator("tbody td").first().getAttribute("data-acc"))).toBeCloseTo(
      expected,
      9,
    );
    expect(Number(await table.locator("td[data-delta]").getAttribute("data-delta"))).toBeCloseTo(
      0 - expected,
      9,
    );
    expect(await page.locator('select[name="mode"]').inputValue()).toBe("flops");
    await expectAccessible(page, "compare at equal FLOPs");
    await screenshot(page, "compare-equal-flops-laptop");
    expect(errors).toEqual([]);
  });

  it("general tasks: a node runner's log-probs scored by lm-eval's rules on the leaderboard, the run page and the checkpoint page", async () => {
    const expected = generalExpectations();
    const pct = (k: number) => `${((100 * k) / DOCS).toFixed(1)}%`;
    const { page, errors } = await open("/?task=arc_easy");
    await page.locator("table.leaderboard tbody tr").first().waitFor();
    expect(
      await page
        .locator('select[name="task"] optgroup[label="General (loglikelihood)"] option')
        .evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value)),
    ).toEqual(["arc_easy", "lambada_openai"]);
    expect(await page.locator("h1").textContent()).toContain("acc_norm");
    const row = page.locator(`tr[data-run="${general.run}"] td`);
    // pick, #, status, acc_norm @ r=8, n, shots 0, no token cap.
    expect((await row.allTextContents()).slice(3, 7)).toEqual([
      wilsonText(expected.arc.accNorm[8], DOCS),
      "8",
      "0",
      "—",
    ]);
    await page.selectOption('select[name="task"]', "lambada_openai");
    await page.locator('th:has-text("Perplexity")').waitFor();
    expect(
      (await page.locator(`tr[data-run="${general.run}"] td`).allTextContents()).slice(3, 5),
    ).toEqual([
      wilsonText(expected.lambada.acc[8], DOCS),
      expected.lambada.perplexity[8].toFixed(2),
    ]);

    // The run page: per task, the primary metric per r and the others beside it.
    await page.goto(`${api.url}/run?id=${general.run}`);
    await page.locator('section[data-task="lambada_openai"] table.aggregates').waitFor();
    const column = async (task: string, name: string) => {
      const table = page.locator(`section[data-task="${task}"] table.aggregates`);
      const at = (await table.locator("thead th").allTextContents()).indexOf(name);
      expect(at, `${task}: a ${name} column`).toBeGreaterThan(-1);
      return table.locator(`tbody tr td:nth-child(${at + 1})`).allTextContents();
    };
    expect(await column("arc_easy", "accuracy")).toEqual(
      RECURRENCES.map((r) => pct(expected.arc.accNorm[r])),
    );
    expect(await column("arc_easy", "acc")).toEqual(
      RECURRENCES.map((r) => pct(expected.arc.acc[r])),
    );
    expect(await column("lambada_openai", "accuracy")).toEqual(
      RECURRENCES.map((r) => pct(expected.lambada.acc[r])),
    );
    expect(await column("lambada_openai", "perplexity")).toEqual(
      RECURRENCES.map((r) => expected.lambada.perplexity[r].toFixed(2)),
    );

    await page.goto(`${api.url}/checkpoint?id=${seeded.checkpoints.a}`);
    await page.locator('figure[data-plot="general-vs-r"]').waitFor();
    expect(await page.locator("h1").allTextContents()).toEqual(["stories260k-retro-1-3-1"]);
    expect(await marks(page, "math-vs-r", "accuracy").count()).toBe(4);
    expect(await marks(page, "general-vs-r", "accuracy").count()).toBe(8);
    expect(
      await page
        .locator('table[data-suite="general"] tbody tr')
        .evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-task"))),
    ).toEqual(["arc_easy", "lambada_openai"]);
    expect(
      await page
        .locator('table[data-suite="general"] tr[data-task="arc_easy"] td')
        .allTextContents(),
    ).toEqual(["acc_norm", ...RECURRENCES.map((r) => pct(expected.arc.accNorm[r]))]);
    await expectAccessible(page, "checkpoint");
    await screenshot(page, "checkpoint-laptop");
    expect(errors).toEqual([]);
  });

  it("accessibility: the FLOPs page, and the leaderboard in dark mode on a phone", async () => {
    for (const [path, ready, viewport, scheme] of [
      ["/flops", "pre.formula", "wide", "light"],
      ["/", 'figure[data-plot="accuracy-vs-flops"]', "phone", "dark"],
    ] as const) {
      const { page } = await openAs(path, {
        viewport: VIEWPORTS[viewport],
        dark: scheme === "dark",
      });
      await page.locator(ready).first().waitFor();
      expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
        scheme === "dark" ? "rgb(21, 24, 28)" : "rgb(255, 255, 255)",
      );
      await expectAccessible(page, `${path} ${viewport} ${scheme}`);
      await screenshot(page, `${path === "/" ? "leaderboard" : "flops"}-${viewport}-${scheme}`);
    }
  });

  it("run page: accuracy vs r with CI bars, vs FLOPs with the baseline, tokens vs r", async () => {
    for (const viewport of ["laptop", "phone"] as const) {
      const { page, errors } = await open(`/run?id=${seeded.runs.a}`, viewport);
      await page.locator('figure[data-plot="tokens-vs-r"]').waitFor();
      expect(await marks(page, "accuracy-vs-r", "accuracy").count()).toBe(4);
      expect(await marks(page, "accuracy-vs-r", "ci95").count()).toBe(4);
      expect(await marks(page, "accuracy-vs-flops", "accuracy").count()).toBe(4);
      expect(await marks(page, "accuracy-vs-flops", "baseline").count()).toBe(1);
      expect(await marks(page, "tokens-vs-r", "tokens").count()).toBe(4);
      for (const [plot, label] of [
        ["accuracy-vs-r", "accuracy"],
        ["accuracy-vs-r", "ci95"],
        ["accuracy-vs-flops", "accuracy"],
        ["accuracy-vs-flops", "baseline"],
        ["tokens-vs-r", "tokens"],
      ]) {
        await expectInside(page, plot, label);
      }
      expect(await page.locator(".baseline-note").textContent()).toContain(
        "stories260k (non-recurrent)",
      );
      const accuracies = await page
        .locator("table.aggregates tbody tr td:nth-child(3)")
        .allTextContents();
      expect(accuracies).toEqual(["25.0%", "37.5%", "62.5%", "62.5%"]);
      expect(await page.locator("[data-state]").textContent()).toBe("finished");
      await screenshot(page, `run-${viewport}`);
      expect(errors).toEqual([]);
    }
  });

  it("sample viewer: each r shows its own completion; the filter keeps documents that change", async () => {
    for (const viewport of ["laptop", "phone"] as const) {
      const { page, errors } = await open(`/samples?run=${seeded.runs.a}&doc=3`, viewport);
      const columns = page.locator("article.completion");
      await columns.first().waitFor();
      expect(await columns.count()).toBe(4);
      for (const r of [1, 2, 4, 8]) {
        const column = page.locator(`article.completion[data-r="${r}"]`);
        expect(await column.locator("pre.completion-text").textContent()).toContain(
          `Thinking at r=${r} about doc 3.`,
        );
        expect(await column.getAttribute("data-correct")).toBe(String(CORRECT.a[r].includes(3)));
      }
      expect(await page.locator('article.completion[data-r="4"] .badge.changed').count()).toBe(1);
      expect(await page.locator("[data-gold]").textContent()).toBe("540");
      expect(await page.locator("pre.prompt").textContent()).toContain("Let's think step by step.");
      await screenshot(page, `samples-${viewport}`);

      await page.check('input[name="changed"]');
      expect(page.url()).toContain("changed=1");
      await page.locator("[data-doc-count]").filter({ hasText: "3 of 8" }).waitFor();
      const listed = await page
        .locator("button.doc")
        .evaluateAll((els) => els.map((el) => Number(el.getAttribute("data-doc"))));
      expect(listed).toEqual([2, 3, 4]);
      await page.click('button.doc[data-doc="2"]');
      await page
        .locator('article.completion[data-r="2"] pre')
        .filter({ hasText: "about doc 2." })
        .waitFor();
      if (viewport === "laptop") await screenshot(page, "samples-changed-laptop");
      expect(errors).toEqual([]);
    }
  });

  it("compare: paired deltas per (task, r) with exact McNemar p-values", async () => {
    const expected = (r: number) => {
      const a = Array.from({ length: DOCS }, (_, i) => Number(CORRECT.a[r].includes(i)));
      const b = Array.from({ length: DOCS }, (_, i) => Number(CORRECT.b[r].includes(i)));
      return mcnemarExact(a, b);
    };
    for (const viewport of ["wide", "phone"] as const) {
      const { page, errors } = await open(
        `/compare?a=${seeded.runs.a}&b=${seeded.runs.b}`,
        viewport,
      );
      const rows = page.locator("table.compare tbody tr");
      await rows.first().waitFor();
      expect(await rows.count()).toBe(4);
      const r4 = await page.locator('tr[data-key="gsm8k_cot_sean@4"] td').allTextContents();
      expect(r4).toEqual(["4", "62.5%", "25.0%", "−37.5 pts", "0.25", "8", "3", "0"]);
      expect(expected(4).delta).toBe(-0.375);
      expect(expected(4).pValue).toBeCloseTo(0.25, 12);
      const r8 = await page.locator('tr[data-key="gsm8k_cot_sean@8"] td').allTextContents();
      expect(r8[3]).toBe("+37.5 pts");
      expect(
        Number(
          await page.locator('tr[data-key="gsm8k_cot_sean@8"] [data-p]').getAttribute("data-p"),
        ),
      ).toBe(expected(8).pValue);
      expect(await marks(page, "accuracy-vs-r", "accuracy").count()).toBe(8);
      await expectInside(page, "accuracy-vs-r", "accuracy");
      await expectAccessible(page, `compare ${viewport}`);
      await screenshot(page, `compare-${viewport}`);
      expect(errors).toEqual([]);
    }
  });

  it("unknown and unpublished runs give a clear message, not a blank page", async () => {
    const cases = [
      ["unknown-run", "/run?id=run_does-not-exist", /not found or is not published/],
      ["unpublished-run", `/run?id=${seeded.runs.live}`, /not found or is not published/],
      ["unknown-samples", "/samples?run=run_does-not-exist", /not found/],
      ["unknown-compare", `/compare?a=${seeded.runs.a}&b=run_nope`, /not found/],
      ["no-run", "/run", /No run given/],
      ["missing-page", "/no-such-page", /Page not found/],
    ] as const;
    for (const [name, path, message] of cases) {
      const { page, errors } = await open(path);
      const alert = page.getByRole("alert");
      await alert.waitFor();
      expect(await alert.textContent()).toMatch(message);
      await screenshot(page, name);
      // The browser logs the API's 404 itself; nothing else may fail.
      expect(errors.filter((e) => !e.includes("404"))).toEqual([]);
    }
  });

  it("a running run's page shows progress and follows it live (with a submit token)", async () => {
    const { page, errors } = await open(
      `/run?id=${seeded.runs.live}`,
      "laptop",
      seeded.submitToken,
    );
    await page.locator('[data-state="active"]').waitFor();
    expect(await page.locator("[data-progress-total]").getAttribute("data-progress-total")).toBe(
      "4/8",
    );
    expect(await page.locator(".badge.unpublished").count()).toBe(1);
    await screenshot(page, "run-live-active");
    await seeded.finishLive();
    await page.locator('[data-state="finished"]').waitFor({ timeout: 30_000 });
    expect(await marks(page, "accuracy-vs-r", "accuracy").count()).toBe(1);
    expect(await page.locator("table.aggregates tbody td:nth-child(3)").textContent()).toBe(
      "75.0%",
    );
    await screenshot(page, "run-live-finished");
    expect(errors).toEqual([]);
  });
});

// ── issue 15: run and samples pages (truncation, triage, downloads, provenance, layout, a11y) ──

const WIDE = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };
const gsm8kDir = join(root, "../shared/datasets/gsm8k");
const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
/** An lm-eval results file as read back (its shape is what the assertions check). */
interface LmEvalFile {
  "n-samples": Record<string, { original: number; effective: number }>;
  config: { model_args: string };
  model_name: string;
  max_length: number;
  configs: Record<string, { generation_kwargs: { max_gen_toks: number } }>;
  task_hashes: Record<string, string>;
}

/**
 * `open` with any viewport, and dark mode when asked (Playwright's default scheme is light). One
 * page per token serves the whole file: a new page starts a renderer, most of a second here, and
 * the dashboard keeps nothing in the browser but the token. Errors are collected afresh per call.
 */
async function openAs(
  path: string,
  options: { viewport: { width: number; height: number }; token?: string; dark?: boolean },
): Promise<Opened> {
  let tab = tabs.get(options.token ?? "");
  if (!tab) {
    const context = await browser.newContext();
    if (options.token) {
      // Not on about:blank, whose storage the page may not touch.
      await context.addInitScript((t) => {
        if (location.protocol.startsWith("http")) localStorage.setItem("evals.token", t);
      }, options.token);
    }
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("console", (msg) => {
      if (msg.type() === "error") errors.push(msg.text());
    });
    page.on("pageerror", (error) => errors.push(String(error)));
    tab = { page, context, errors };
    tabs.set(options.token ?? "", tab);
  }
  // Off the last page first, so that nothing it still logs counts against this one.
  await tab.page.goto("about:blank");
  tab.errors.length = 0;
  await tab.page.setViewportSize(options.viewport);
  await tab.page.emulateMedia({ colorScheme: options.dark ? "dark" : "light" });
  await tab.page.goto(`${api.url}${path}`);
  return tab;
}
const tabs = new Map<string, Opened>();

/** axe-core's serious and critical violations on the page as it is now. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: join(root, "node_modules/axe-core/axe.min.js") });
  const found = await page.evaluate(async () => {
    type Options = { resultTypes: string[] };
    const axe = (
      window as unknown as {
        axe: { run(context: Document, options: Options): Promise<{ violations: unknown[] }> };
      }
    ).axe;
    // Every rule still runs; only the violations get their nodes' selectors worked out.
    return (await axe.run(document, { resultTypes: ["violations"] })).violations as {
      id: string;
      impact: string;
      nodes: { target: string[] }[];
    }[];
  });
  return found
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/** One h1; every table has a header cell per column; no table is cut off by its box. */
async function layoutFacts(page: Page) {
  return page.evaluate(() => ({
    h1: document.querySelectorAll("h1").length,
    tables: [...document.querySelectorAll("table")].map((table) => {
      const heads = table.querySelectorAll("thead tr:last-child th").length;
      const widest = Math.max(
        0,
        ...[...table.querySelectorAll("tbody tr")].map((r) => r.children.length),
      );
      const box = table.parentElement as HTMLElement;
      return {
        headersCoverColumns: heads >= widest,
        emptyHeaders: [...table.querySelectorAll("th")].filter(
          (th) => !(th.textContent?.trim() || th.getAttribute("aria-label")),
        ).length,
        cutOff: table.scrollWidth > box.clientWidth + 1,
      };
    }),
  }));
}

async function checkPage(
  page: Page,
  name: string,
  viewport: "wide" | "phone",
  cutOffAllowed = false,
) {
  const facts = await layoutFacts(page);
  expect(facts.h1, `${name}: one h1`).toBe(1);
  for (const table of facts.tables) {
    expect(table.headersCoverColumns, `${name}: a th for every column`).toBe(true);
    expect(table.emptyHeaders, `${name}: no empty th`).toBe(0);
    if (viewport === "wide" && !cutOffAllowed)
      expect(table.cutOff, `${name}: cut-off table`).toBe(false);
  }
  expect(await axeViolations(page), `${name}: axe`).toEqual([]);
  await screenshot(page, `${name}-${viewport}`);
}

/** RFC 4180 rows (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  const endField = () => {
    row.push(field);
    field = "";
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (quoted || (c !== "," && c !== "\n" && c !== "\r")) {
      field += c;
    } else if (c === ",") {
      endField();
    } else if (c === "\n") {
      endField();
      rows.push(row);
      row = [];
    }
  }
  return rows;
}

async function authedFetch(path: string, token?: string): Promise<Response> {
  return fetch(`${api.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

describe("issue 15: run page and sample triage", () => {
  it("run page: truncation counts, provenance, downloads, SVG plots; one h1, headers, axe, dark mode", async () => {
    const truncated = triage.truncatedDocs.length;
    expect(truncated).toBe(DOCS); // 8-shot gsm8k does not fit stories260k's 512 − 64 tokens
    for (const [viewport, size] of [
      ["wide", WIDE],
      ["phone", PHONE],
    ] as const) {
      const { page, errors } = await openAs(`/run?id=${triage.truncatedRun}`, {
        viewport: size,
        token: triage.submitToken,
      });
      await page.locator("table.aggregates").waitFor();
      expect(await page.locator("table.aggregates td[data-truncated]").allTextContents()).toEqual([
        `⚠ ${truncated} / ${DOCS}`,
        `⚠ ${truncated} / ${DOCS}`,
      ]);
      expect(await page.locator(".warning[data-truncated]").getAttribute("data-truncated")).toBe(
        String(2 * truncated),
      );
      const facts = await page.locator(".run-header dl.facts").textContent();
      for (const fact of ["seeded-gpu", "dashboard-seed/1", "evals 0.1.0", "wasm", "test.jsonl"]) {
        expect(facts).toContain(fact);
      }
      expect(facts).toMatch(/created\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
      expect(facts).toMatch(/finished.*\(\d+ s\)/);
      expect(await page.locator("[data-download]").count()).toBe(4); // results + samples × r 1, 2
      await checkPage(page, "issue15-run", viewport);
      expect(errors).toEqual([]);
      if (viewport === "wide") {
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.locator('figure[data-plot="accuracy-vs-r"] a.svg-download').click(),
        ]);
        const svg = readFileSync((await download.path()) as string, "utf8");
        expect(svg.startsWith('<?xml version="1.0"')).toBe(true);
        expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
        expect(svg).toContain("mark-accuracy");
      }
    }
    const dark = await openAs(`/run?id=${triage.truncatedRun}`, {
      viewport: WIDE,
      token: triage.submitToken,
      dark: true,
    });
    await dark.page.locator("table.aggregates").waitFor();
    expect(await dark.page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
      "rgb(21, 24, 28)",
    );
    expect(await axeViolations(dark.page)).toEqual([]);
    await screenshot(dark.page, "issue15-run-dark");
  });

  it("downloads: samples CSV/JSONL, lm-eval results per r and --log_samples lines", async () => {
    const token = triage.submitToken;
    const run = triage.truncatedRun;
    const csv = await (
      await authedFetch(`/api/runs/${run}/samples/download?format=csv`, token)
    ).text();
    const [head, ...rows] = parseCsv(csv);
    expect(head.slice(0, 5)).toEqual(["task", "r", "doc_index", "doc_id", "correct"]);
    expect(head).toContain("prompt_truncated");
    expect(rows).toHaveLength(2 * DOCS);
    expect(rows.every((r) => r.length === head.length)).toBe(true);
    const capped = rows.filter((r) => r[head.indexOf("hit_token_cap")] === "true");
    expect(capped.map((r) => Number(r[2])).sort()).toEqual(
      [...triage.cappedDocs, ...triage.cappedDocs].sort(),
    );
    const jsonl = await (
      await authedFetch(`/api/runs/${run}/samples/download?format=jsonl`, token)
    ).text();
    expect(jsonl.trimEnd().split("\n")).toHaveLength(2 * DOCS);

    expect((await authedFetch(`/api/runs/${run}/export`, token)).status).toBe(400);
    const results = (await (
      await authedFetch(`/api/runs/${run}/export?r=2`, token)
    ).json()) as LmEvalFile;
    const testSize = readFileSync(join(gsm8kDir, "test.jsonl"), "utf8")
      .trimEnd()
      .split("\n").length;
    expect(results["n-samples"]).toEqual({
      gsm8k_cot_sean: { original: testSize, effective: DOCS },
    });
    expect(results.config.model_args).toContain("mean_recurrence=2");
    expect(results.model_name).toBe("stories260k triage");
    expect(results.max_length).toBe(512);
    expect(results.configs.gsm8k_cot_sean.generation_kwargs.max_gen_toks).toBe(triage.maxGenToks);

    const lines = (
      await (
        await authedFetch(`/api/runs/${run}/export/samples?task=gsm8k_cot_sean&r=1`, token)
      ).text()
    )
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    const first = lines.find((l) => l.doc_id === 0 && l.filter === "flexible-extract");
    const row0 = JSON.parse(readFileSync(join(gsm8kDir, "test.jsonl"), "utf8").split("\n")[0]);
    expect(first.doc).toEqual(row0);
    expect(first.target).toBe("18");
    expect(first.doc_hash).toBe(sha256(JSON.stringify(row0, null, 2)));
    expect(first.prompt_hash).toBe(sha256(first.arguments.gen_args_0.arg_0));
    expect(first.exact_match).toBe(1);
    // lm-eval's task hash is over the logged lines' hashes, in order.
    const r1 = (await (
      await authedFetch(`/api/runs/${run}/export?r=1`, token)
    ).json()) as LmEvalFile;
    expect(r1.task_hashes.gsm8k_cot_sean).toBe(
      sha256(lines.map((l) => l.doc_hash + l.prompt_hash + l.target_hash).join("")),
    );
  });

  it("samples page: the prompt the model saw, flags, filters, search, answers, keyboard strip", async () => {
    const token = triage.submitToken;
    const run = triage.truncatedRun;
    for (const [viewport, size] of [
      ["wide", WIDE],
      ["phone", PHONE],
    ] as const) {
      const { page, errors } = await openAs(`/samples?run=${run}&doc=2`, {
        viewport: size,
        token,
      });
      await page.locator("article.completion").first().waitFor();
      const seen = (await page.locator("pre[data-prompt-seen]").textContent()) ?? "";
      const full =
        (await page.locator("details.prompt-box pre.prompt:not(.seen)").textContent()) ?? "";
      expect(seen.length).toBeGreaterThan(50);
      expect(seen.length).toBeLessThan(full.length);
      expect(full.endsWith(seen.trimStart().slice(-60))).toBe(true);
      expect(await page.locator("[data-prompt-truncated]").textContent()).toMatch(
        /saw only its last [\d,]+ tokens; the first [\d,]+ were cut/,
      );
      expect(await page.locator('[data-badge="truncated"]').count()).toBe(2);
      expect(await page.locator('[data-badge="capped"]').count()).toBe(2);
      // The primary metric's extracted answer; correctness in words and marks, not only colour.
      expect(await page.locator('article[data-r="2"] code[data-answer]').textContent()).toBe(
        JSON.parse(readFileSync(join(gsm8kDir, "test.jsonl"), "utf8").split("\n")[2])
          .answer.split("####")
          .at(-1)
          .trim(),
      );
      expect(await page.locator('article[data-r="2"] .badge.ok').textContent()).toBe("✓ correct");
      expect(new Set(await page.locator(".doc-list .cell").allTextContents())).toEqual(
        new Set(["✓", "✗"]),
      );
      // Long answers wrap at spaces, inside their column.
      const wrap = await page.locator('article[data-r="1"] pre.completion-text').evaluate((el) => ({
        wrap: getComputedStyle(el).overflowWrap,
        breakWord: getComputedStyle(el).wordBreak,
        overflows: el.scrollWidth > el.clientWidth + 1,
      }));
      expect(wrap).toEqual({ wrap: "break-word", breakWord: "normal", overflows: false });
      await checkPage(page, "issue15-samples", viewport);
      expect(errors).toEqual([]);
    }

    const { page, errors } = await openAs(`/samples?run=${run}`, {
      viewport: WIDE,
      token,
    });
    const listed = async () => {
      await page.locator("[data-doc-count]").waitFor();
      return page
        .locator("button.doc")
        .evaluateAll((els) => els.map((el) => Number(el.getAttribute("data-doc"))));
    };
    const filter = async (params: string) => {
      await page.goto(`${api.url}/samples?run=${run}&${params}`);
      await page.locator("[data-doc-count]").waitFor();
      return listed();
    };
    expect(await filter("capped=1")).toEqual(triage.cappedDocs);
    expect(await filter("truncated=1&r=2")).toEqual(triage.truncatedDocs);
    expect(await filter("r=1&correct=1")).toEqual([0, 1]); // correct where doc < 2r
    expect(await filter("r=2&correct=0")).toEqual([4, 5, 6, 7]);
    // Search: "ducks" is in document 0's question only (not in the exemplar, golds or answers).
    const questions = readFileSync(join(gsm8kDir, "test.jsonl"), "utf8")
      .split("\n")
      .slice(0, DOCS)
      .map((line) => JSON.parse(line).question as string);
    expect(readFileSync(join(gsm8kDir, "fewshot_gsm8k_cot_8shot.jsonl"), "utf8")).not.toMatch(
      /ducks/i,
    );
    await page.goto(`${api.url}/samples?run=${run}`);
    await page.locator("[data-doc-count]").waitFor();
    await page.fill('input[name="q"]', "DUCKS");
    await page.click('form[role="search"] button[type="submit"]');
    await page.waitForURL(/q=DUCKS/);
    await page
      .locator("[data-doc-count]")
      .filter({ hasNotText: `${DOCS} of` })
      .waitFor();
    expect(await listed()).toEqual(
      questions.flatMap((q, i) => (q.toLowerCase().includes("ducks") ? [i] : [])),
    );
    // The r strip: one tab stop, arrow keys move between r, focus visible.
    await page.goto(`${api.url}/samples?run=${run}&doc=0`);
    await page.locator("article.completion").first().waitFor();
    await page.locator(".completions").focus();
    await page.keyboard.press("ArrowRight");
    const focused = () =>
      page.evaluate(() => ({
        r: document.activeElement?.getAttribute("data-r"),
        outline: getComputedStyle(document.activeElement as Element).outlineStyle,
      }));
    expect(await focused()).toEqual({ r: "1", outline: "solid" });
    await page.keyboard.press("ArrowRight");
    expect((await focused()).r).toBe("2");
    await page.keyboard.press("ArrowLeft");
    expect((await focused()).r).toBe("1");
    expect(errors).toEqual([]);

    // Reuse: every r = 1 sample of the second run came from the first; r = 4 was computed.
    const reused = await openAs(`/samples?run=${triage.reuseRun}&reused=1&r=1`, {
      viewport: WIDE,
      token,
    });
    expect(await reused.page.locator("[data-doc-count]").getAttribute("data-doc-count")).toBe(
      String(DOCS),
    );
    await reused.page.goto(`${api.url}/samples?run=${triage.reuseRun}&reused=1&r=4`);
    await reused.page.getByText("No document matches the filters.").waitFor();
  });

  // Publishes the triage runs: keep this the last test of the file.
  it("public pages and API answers never show a submitter's local path", async () => {
    await triage.publish();
    const secret = PRIVATE_SOURCE_PATH.slice(0, PRIVATE_SOURCE_PATH.lastIndexOf("/"));
    const run = triage.truncatedRun;
    const paths = [
      "/api/leaderboard",
      "/api/leaderboard/checkpoints",
      "/api/runs",
      `/api/runs/${run}`,
      `/api/runs/${run}/outcomes`,
      `/api/runs/${run}/docs/gsm8k_cot_sean/0`,
      `/api/runs/${run}/samples`,
      `/api/runs/${run}/samples/download?format=jsonl`,
      `/api/runs/${run}/samples/download?format=csv`,
      `/api/runs/${run}/export?r=1`,
      `/api/runs/${run}/export/samples?task=gsm8k_cot_sean&r=1`,
    ];
    let publicCheckpoint = false;
    for (const path of paths) {
      const res = await authedFetch(path);
      expect(res.status, path).toBe(200);
      const body = await res.text();
      expect(body, path).not.toContain(secret);
      if (body.includes("stories-secret")) publicCheckpoint = true;
    }
    // The checkpoint is listed (its folder's last component only): the check above saw it.
    expect(publicCheckpoint).toBe(true);
    for (const path of ["/", `/run?id=${run}`, `/samples?run=${run}&doc=0`]) {
      const { page } = await openAs(path, { viewport: WIDE });
      await page.waitForLoadState("networkidle");
      expect(await page.content(), path).not.toContain(secret);
    }
  });
});
