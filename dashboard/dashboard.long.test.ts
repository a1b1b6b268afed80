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
import { CORRECT, DOCS, type Seeded, seed } from "./testing/seed.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const shots = join(root, "test-output/dashboard");
const VIEWPORTS = {
  laptop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

let api: LocalApi;
let seeded: Seeded;
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
  seeded = await seed(api.url, api.adminToken);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await api?.stop();
  if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

describe("dashboard", () => {
  it("leaderboard: one row per published run, sortable, filterable, state in the address", async () => {
    for (const viewport of ["laptop", "phone"] as const) {
      const { page, context, errors } = await open("/", viewport);
      const rows = page.locator("table.leaderboard tbody tr");
      await rows.first().waitFor();
      expect(await rows.count()).toBe(3);
      // Default order: best accuracy first (run B reaches 100% at r = 8).
      expect(await rows.first().getAttribute("data-run")).toBe(seeded.runs.b);
      const rowA = page.locator(`tr[data-run="${seeded.runs.a}"]`);
      expect(await rowA.locator(".badge").textContent()).toBe("verified");
      expect(await page.locator(`tr[data-run="${seeded.runs.b}"] .badge`).textContent()).toBe(
        "community",
      );
      const cells = await rowA.locator("td").allTextContents();
      // pick, model, checkpoint, train r, status, r=1, r=2, r=4, r=8, best r, best, FLOPs
      expect(cells.slice(3, 12)).toEqual([
        "4",
        "verified",
        "25.0%",
        "37.5%",
        "62.5%",
        "62.5%",
        "4",
        "62.5%",
        expect.stringMatching(/FLOP$/),
      ]);
      expect(cells[2]).toBe(seeded.checkpoints.a.slice(0, 10));
      // Recurrent runs in the r plot (4 + 4 points), the flat run as the baseline in the FLOPs plot.
      expect(await marks(page, "accuracy-vs-r", "accuracy").count()).toBe(8);
      expect(await marks(page, "accuracy-vs-flops", "accuracy").count()).toBe(8);
      expect(await marks(page, "accuracy-vs-flops", "baseline").count()).toBe(1);
      await expectInside(page, "accuracy-vs-r", "accuracy");
      await expectInside(page, "accuracy-vs-r", "ci95");
      await expectInside(page, "accuracy-vs-flops", "baseline");
      await screenshot(page, `leaderboard-${viewport}`);
      expect(errors).toEqual([]);
      await context.close();
    }

    const { page, context, errors } = await open("/");
    await page.locator("table.leaderboard tbody tr").first().waitFor();
    await page.click('button[data-sort="model"]');
    expect(page.url()).toContain("sort=model&dir=asc");
    const names = await page
      .locator("table.leaderboard tbody tr td:nth-child(2) a")
      .allTextContents();
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    await page.selectOption('select[name="family"]', "olmo2");
    expect(page.url()).toContain("family=olmo2");
    expect(await page.locator("table.leaderboard tbody tr").count()).toBe(1);
    // The address alone restores the view.
    const linked = await context.newPage();
    await linked.goto(page.url());
    await linked.locator("table.leaderboard tbody tr").first().waitFor();
    expect(await linked.locator("table.leaderboard tbody tr").count()).toBe(1);
    expect(await linked.locator('select[name="family"]').inputValue()).toBe("olmo2");
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
    for (const viewport of ["laptop", "phone"] as const) {
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
