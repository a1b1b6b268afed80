// The dashboard in real Chromium against a real local worker (`wrangler dev`, fresh state) seeded
// through the API: every page renders the seeded runs, plots carry the expected points, the sample
// viewer shows each r's own completion, the compare page shows the seeded delta, bad ids give a
// message, a running run updates live. Screenshots of every page go to test-output/dashboard/.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mcnemarExact } from "../evals/stats/mcnemar.ts";
import { launchChromium } from "../runner/browser/chromium.ts";
import { type LocalApi, startLocalApi } from "../worker/dev.ts";
import {
  CAPPED_MAX_GEN_TOKS,
  CORRECT,
  DOCS,
  type Seeded,
  type SeededExtras,
  seed,
  seedComparisons,
  seedGeneralRuns,
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
let generalRun: string;
let browser: Browser;
let persistTo: string;

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => done(typeof address === "object" && address ? address.port : 0));
    });
  });
}

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
  const context = await browser.newContext({ viewport: VIEWPORTS[viewport] });
  if (token) {
    await context.addInitScript((t) => localStorage.setItem("evals.token", t), token);
  }
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${api.url}${path}`);
  return { page, context, errors };
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
  persistTo = mkdtempSync(join(tmpdir(), "evals-dashboard-"));
  // startLocalApi builds the dashboard bundles before it starts wrangler dev.
  api = await startLocalApi({ port: await freePort(), persistTo, quiet: true });
  // The extras first: `seed` leaves a run with an unanswered shard that no other runner may take.
  extras = await seedComparisons(api.url, api.adminToken);
  seeded = await seed(api.url, api.adminToken);
  generalRun = (await seedGeneralRuns(persistTo, seeded.checkpoints.a)).run;
  browser = await launchChromium();
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
    const { axe } = window as unknown as { axe: { run: () => Promise<Result> } };
    const result = await axe.run();
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

afterAll(async () => {
  await browser?.close();
  await api?.stop();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

describe("dashboard", () => {
  it("leaderboard: accuracy at the chosen r with its Wilson interval, comparable runs ranked apart, sortable, filterable, state in the address", async () => {
    const r8 = wilsonText(5, DOCS);
    for (const viewport of ["wide", "phone"] as const) {
      const { page, context, errors } = await open("/", viewport);
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
      await context.close();
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
    // Two rows picked: the compare link points at both runs.
    await page.selectOption('select[name="family"]', "");
    await page.check(`tr[data-run="${seeded.runs.a}"] input[type=checkbox]`);
    await page.check(`tr[data-run="${seeded.runs.b}"] input[type=checkbox]`);
    const href = await page.locator("#compare-selected").getAttribute("href");
    expect(href).toContain(seeded.runs.a);
    expect(href).toContain(seeded.runs.b);
    expect(errors).toEqual([]);
    await context.close();
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

    const { page, context, errors } = await open("/");
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
    await context.close();
  });

  it("general tasks: in the task picker with lm-eval's metric, perplexity for lambada, a checkpoint's math and general accuracy side by side", async () => {
    const { page, context, errors } = await open("/?task=arc_easy");
    await page.locator("table.leaderboard tbody tr").first().waitFor();
    expect(
      await page
        .locator('select[name="task"] optgroup[label="General (loglikelihood)"] option')
        .evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value)),
    ).toEqual(["arc_easy", "lambada_openai"]);
    expect(await page.locator("h1").textContent()).toContain("acc_norm");
    const row = page.locator(`tr[data-run="${generalRun}"] td`);
    // pick, #, status, acc @ r=8 (6 of 8), n, shots 0, no token cap.
    expect((await row.allTextContents()).slice(3, 7)).toEqual([wilsonText(6, DOCS), "8", "0", "—"]);
    await page.selectOption('select[name="task"]', "lambada_openai");
    await page.locator('th:has-text("Perplexity")').waitFor();
    expect((await page.locator(`tr[data-run="${generalRun}"] td`).allTextContents())[4]).toBe(
      "27.50",
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
    ).toEqual(["acc_norm", "50.0%", "62.5%", "62.5%", "75.0%"]);
    await expectAccessible(page, "checkpoint");
    await screenshot(page, "checkpoint-laptop");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("accessibility: the FLOPs page, and the leaderboard in dark mode on a phone", async () => {
    for (const [path, ready, viewport, scheme] of [
      ["/flops", "pre.formula", "wide", "light"],
      ["/", 'figure[data-plot="accuracy-vs-flops"]', "phone", "dark"],
    ] as const) {
      const context = await browser.newContext({
        viewport: VIEWPORTS[viewport],
        colorScheme: scheme,
      });
      const page = await context.newPage();
      await page.goto(`${api.url}${path}`);
      await page.locator(ready).first().waitFor();
      expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
        scheme === "dark" ? "rgb(21, 24, 28)" : "rgb(255, 255, 255)",
      );
      await expectAccessible(page, `${path} ${viewport} ${scheme}`);
      await screenshot(page, `${path === "/" ? "leaderboard" : "flops"}-${viewport}-${scheme}`);
      await context.close();
    }
  });

  it("run page: accuracy vs r with CI bars, vs FLOPs with the baseline, tokens vs r", async () => {
    for (const viewport of ["laptop", "phone"] as const) {
      const { page, context, errors } = await open(`/run?id=${seeded.runs.a}`, viewport);
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
      await context.close();
    }
  });

  it("sample viewer: each r shows its own completion; the filter keeps documents that change", async () => {
    for (const viewport of ["laptop", "phone"] as const) {
      const { page, context, errors } = await open(`/samples?run=${seeded.runs.a}&doc=3`, viewport);
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
      await context.close();
    }
  });

  it("compare: paired deltas per (task, r) with exact McNemar p-values", async () => {
    const expected = (r: number) => {
      const a = Array.from({ length: DOCS }, (_, i) => Number(CORRECT.a[r].includes(i)));
      const b = Array.from({ length: DOCS }, (_, i) => Number(CORRECT.b[r].includes(i)));
      return mcnemarExact(a, b);
    };
    for (const viewport of ["wide", "phone"] as const) {
      const { page, context, errors } = await open(
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
      await context.close();
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
      const { page, context, errors } = await open(path);
      const alert = page.getByRole("alert");
      await alert.waitFor();
      expect(await alert.textContent()).toMatch(message);
      await screenshot(page, name);
      // The browser logs the API's 404 itself; nothing else may fail.
      expect(errors.filter((e) => !e.includes("404"))).toEqual([]);
      await context.close();
    }
  });

  it("a running run's page shows progress and follows it live (with a submit token)", async () => {
    const { page, context, errors } = await open(
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
    await context.close();
  });
});
