// The plots (Observable Plot): accuracy against r with 95% CI bars, accuracy against mean FLOPs per
// sample on a log axis (with the non-recurrent baselines, each named in the legend), mean generated
// tokens against r. Every mark carries a class (`mark-accuracy`, `mark-ci95`, `mark-baseline`, …)
// so tests find its points; every plot has a caption and an aria-label.
import * as Plot from "@observablehq/plot";
import { add, h } from "./dom.ts";
import { flops, percent } from "./format.ts";

/** Observable's ten categorical colours (tableau10): series and baselines share one scale. */
const PALETTE = [
  "#4e79a7",
  "#f28e2c",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc949",
  "#af7aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ab",
];

/** Where the FLOPs formula is written out (a static page built from dashboard/pages.ts). */
export const FLOPS_FORMULA_URL = "/flops";

export interface SeriesPoint {
  series: string;
  recurrences: number;
  accuracy: number;
  ci95: [number, number];
  meanFlops: number;
  meanTokens?: number;
  n: number;
}

export interface BaselinePoint {
  label: string;
  accuracy: number;
  meanFlops: number;
  ci95?: [number, number];
}

/**
 * Puts an empty figure into `container` first, so the plot is drawn at the width its grid cell
 * really has (a phone, half a laptop screen) instead of drawn wide and scaled down.
 */
let plotCount = 0;

/**
 * Plot labels each mark's <g> with its type ("rule", "line"), which ARIA forbids on an element with
 * no role: the drawing becomes one image named by its title instead (the caption and the legend
 * carry the words).
 */
function asImage<T extends Element>(plot: T, title: string): T {
  for (const g of plot.querySelectorAll("g[aria-label], g[aria-description]")) {
    g.removeAttribute("aria-label");
    g.removeAttribute("aria-description");
  }
  // With a legend Plot returns a <figure>: the drawing is its own <svg> child.
  const svg = plot.tagName.toLowerCase() === "svg" ? plot : plot.querySelector(":scope > svg");
  svg?.setAttribute("role", "img");
  if (svg && !svg.getAttribute("aria-label")) svg.setAttribute("aria-label", title);
  return plot;
}

function slot(container: HTMLElement, name: string, title: string) {
  const fig = document.createElement("figure");
  fig.className = "plot";
  fig.dataset.plot = name;
  const caption = document.createElement("figcaption");
  caption.textContent = title;
  caption.id = `plot-${name}-${++plotCount}`;
  fig.setAttribute("aria-labelledby", caption.id);
  add(fig, caption);
  add(container, fig);
  const style = getComputedStyle(fig);
  const inner =
    fig.clientWidth - Number.parseFloat(style.paddingLeft) - Number.parseFloat(style.paddingRight);
  const width = Math.max(260, Math.min(760, Math.floor(inner || 640)));
  return { fig, width };
}

/** A log-2 axis for r with a tick at every r run and room either side of the ends. */
function recurrenceAxis(values: number[]) {
  const ticks = [...new Set(values)].sort((a, b) => a - b);
  const lo = ticks[0] ?? 1;
  const hi = ticks.at(-1) ?? 1;
  return {
    type: "log" as const,
    base: 2,
    domain: [lo / 1.25, hi * 1.25],
    ticks,
    tickFormat: (d: number) => String(d),
    label: "recurrences r →",
  };
}

/**
 * x for a point at r, nudged sideways per series (a few % of an octave) so the CI bars of runs
 * with equal r do not hide each other.
 */
function dodged(points: SeriesPoint[]): (p: SeriesPoint) => number {
  const names = [...new Set(points.map((p) => p.series))];
  const step = names.length > 1 ? Math.min(0.08, 0.3 / names.length) : 0;
  return (p) => p.recurrences * 2 ** (step * (names.indexOf(p.series) - (names.length - 1) / 2));
}

function accuracyAxis(points: { ci95: [number, number]; accuracy: number }[], extra: number[]) {
  const values = [...points.flatMap((p) => [p.ci95[0], p.ci95[1], p.accuracy]), ...extra].filter(
    Number.isFinite,
  );
  const hi = Math.min(1, Math.max(0.1, ...values) + 0.05);
  // With `percent`, Plot scales values by 100 before the domain applies: the domain is in %.
  return { domain: [0, 100 * hi], percent: true, label: "↑ accuracy (%)", grid: true };
}

export function accuracyVsRecurrence(
  container: HTMLElement,
  points: SeriesPoint[],
  title = "Accuracy against recurrences (95% CI)",
): HTMLElement {
  const names = [...new Set(points.map((p) => p.series))];
  const several = names.length > 1;
  const { fig, width } = slot(container, "accuracy-vs-r", title);
  const x = dodged(points);
  const svg = Plot.plot({
    width,
    height: 280,
    marginLeft: 48,
    ariaLabel: title,
    x: recurrenceAxis(points.map((p) => p.recurrences)),
    y: accuracyAxis(points, []),
    // The palette and order of the FLOPs plot, so one run has one colour on the page.
    color: {
      domain: names,
      range: names.map((_, i) => PALETTE[i % PALETTE.length]),
      legend: several,
    },
    marks: [
      Plot.ruleY([0]),
      Plot.ruleX(points, {
        x,
        y1: (p: SeriesPoint) => Math.max(0, p.ci95[0]),
        y2: (p: SeriesPoint) => Math.min(1, p.ci95[1]),
        stroke: several ? "series" : "currentColor",
        strokeOpacity: 0.5,
        strokeWidth: 2,
        className: "mark-ci95",
      }),
      Plot.line(points, {
        x,
        y: "accuracy",
        stroke: several ? "series" : "steelblue",
        z: "series",
        className: "mark-accuracy-line",
      }),
      Plot.dot(points, {
        x,
        y: "accuracy",
        fill: several ? "series" : "steelblue",
        r: 4,
        className: "mark-accuracy",
        title: (p: SeriesPoint) =>
          `${p.series}\nr = ${p.recurrences}: ${percent(p.accuracy)} [${percent(p.ci95[0])}, ${percent(p.ci95[1])}], n = ${p.n}`,
      }),
    ],
  });
  add(fig, asImage(svg, title));
  return fig;
}

/**
 * A legend in HTML (real text, wraps on a phone): a dot per series, a diamond per baseline, each in
 * the colour it has in the plot.
 */
function legend(entries: { label: string; color: string; baseline: boolean }[]): HTMLElement {
  const ns = "http://www.w3.org/2000/svg";
  return h(
    "ul",
    { className: "legend", "aria-label": "Legend" },
    entries.map((entry) => {
      const swatch = document.createElementNS(ns, "svg");
      swatch.setAttribute("width", "14");
      swatch.setAttribute("height", "14");
      swatch.setAttribute("viewBox", "-7 -7 14 14");
      swatch.setAttribute("aria-hidden", "true");
      const shape = document.createElementNS(ns, entry.baseline ? "path" : "circle");
      if (entry.baseline) {
        shape.setAttribute("d", "M0,-6L6,0L0,6L-6,0Z");
        shape.setAttribute("fill", "none");
        shape.setAttribute("stroke", entry.color);
        shape.setAttribute("stroke-width", "2");
      } else {
        shape.setAttribute("r", "5");
        shape.setAttribute("fill", entry.color);
      }
      swatch.appendChild(shape);
      return h(
        "li",
        { "data-legend": entry.baseline ? "baseline" : "series" },
        swatch,
        entry.baseline ? `${entry.label} · baseline` : entry.label,
      );
    }),
  );
}

export interface FlopsPlotOptions {
  title?: string;
  /** Extra marks drawn on top (the compute-matched view's read-off points). */
  readOffs?: { label: string; flops: number; accuracy: number; ci95: [number, number] }[];
}

/**
 * Accuracy against mean FLOPs per sample on a log axis, 95% CI bars on every point, a line per
 * series in r order, each baseline a diamond in its own colour, named in the legend. No text on
 * the points (they overlapped as soon as points clustered): r is in each point's tooltip, and
 * along a line r grows from left to right. One sentence under the plot says how FLOPs are counted.
 */
export function accuracyVsFlops(
  container: HTMLElement,
  points: SeriesPoint[],
  baselines: BaselinePoint[] = [],
  options: FlopsPlotOptions = {},
): HTMLElement {
  const title = options.title ?? "Accuracy against mean FLOPs per sample (log scale, 95% CI)";
  const readOffs = options.readOffs ?? [];
  const seriesNames = [...new Set(points.map((p) => p.series))];
  const baselineNames = [...new Set(baselines.map((b) => b.label))];
  const domain = [...seriesNames, ...baselineNames.filter((b) => !seriesNames.includes(b))];
  const colorOf = (name: string) => PALETTE[domain.indexOf(name) % PALETTE.length];
  const all = [
    ...points.map((p) => p.meanFlops),
    ...baselines.map((b) => b.meanFlops),
    ...readOffs.map((r) => r.flops),
  ].filter((x) => x > 0);
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const { fig, width } = slot(container, "accuracy-vs-flops", title);
  const ciOf = (p: { ci95: [number, number] }) => ({
    y1: Math.max(0, p.ci95[0]),
    y2: Math.min(1, p.ci95[1]),
  });
  const svg = Plot.plot({
    width,
    height: 300,
    marginLeft: 48,
    marginRight: 24,
    ariaLabel: title,
    ariaDescription:
      "Each run is a line of points, one per recurrence r; non-recurrent baselines are diamonds.",
    x: {
      type: "log",
      domain: [lo / 1.5, hi * 1.5],
      label: "mean FLOPs per sample →",
      tickFormat: "~s",
      ticks: 5,
    },
    y: accuracyAxis(
      [...points, ...baselines.map((b) => ({ ...b, ci95: b.ci95 ?? [b.accuracy, b.accuracy] }))],
      [],
    ),
    color: { domain, range: domain.map(colorOf), legend: false },
    marks: [
      Plot.ruleY([0]),
      Plot.ruleX(points, {
        x: "meanFlops",
        y1: (p: SeriesPoint) => ciOf(p).y1,
        y2: (p: SeriesPoint) => ciOf(p).y2,
        stroke: "series",
        strokeOpacity: 0.45,
        strokeWidth: 2,
        className: "mark-flops-ci95",
      }),
      Plot.line(points, {
        x: "meanFlops",
        y: "accuracy",
        stroke: "series",
        z: "series",
        sort: "recurrences",
        className: "mark-flops-line",
      }),
      Plot.dot(points, {
        x: "meanFlops",
        y: "accuracy",
        fill: "series",
        r: 4,
        className: "mark-accuracy",
        title: (p: SeriesPoint) =>
          `${p.series}\nr = ${p.recurrences}: ${percent(p.accuracy)} [${percent(p.ci95[0])}, ${percent(p.ci95[1])}] at ${flops(p.meanFlops)}, n = ${p.n}`,
      }),
      Plot.ruleX(
        baselines.filter((b) => b.ci95),
        {
          x: "meanFlops",
          y1: (b: BaselinePoint) => ciOf(b as { ci95: [number, number] }).y1,
          y2: (b: BaselinePoint) => ciOf(b as { ci95: [number, number] }).y2,
          stroke: "label",
          strokeDasharray: "3,2",
          strokeWidth: 2,
          className: "mark-baseline-ci95",
        },
      ),
      Plot.dot(baselines, {
        x: "meanFlops",
        y: "accuracy",
        symbol: "diamond2",
        r: 6,
        stroke: "label",
        strokeWidth: 2.5,
        className: "mark-baseline",
        title: (b: BaselinePoint) =>
          `non-recurrent baseline ${b.label}: ${percent(b.accuracy)}${b.ci95 ? ` [${percent(b.ci95[0])}, ${percent(b.ci95[1])}]` : ""} at ${flops(b.meanFlops)}`,
      }),
      Plot.dot(readOffs, {
        x: "flops",
        y: "accuracy",
        symbol: "times",
        r: 5,
        stroke: "label",
        strokeWidth: 2,
        className: "mark-read-off",
        title: (r: (typeof readOffs)[number]) =>
          `${r.label} at ${flops(r.flops)} (interpolated): ${percent(r.accuracy)} [${percent(r.ci95[0])}, ${percent(r.ci95[1])}]`,
      }),
    ],
  });
  add(
    fig,
    asImage(svg, title),
    legend([
      ...seriesNames.map((label) => ({ label, color: colorOf(label), baseline: false })),
      ...baselineNames.map((label) => ({ label, color: colorOf(label), baseline: true })),
    ]),
    h(
      "p",
      { className: "plot-note small muted" },
      "FLOPs are counted per sample from the checkpoint's parameter counts: every prompt and generated token costs 2 FLOPs per parameter it passes through, the recurrent block r times, plus attention over the tokens before it (",
      h("a", { href: FLOPS_FORMULA_URL }, "the formula"),
      "); along each line r grows from left to right.",
    ),
  );
  return fig;
}

export function tokensVsRecurrence(container: HTMLElement, points: SeriesPoint[]): HTMLElement {
  const several = new Set(points.map((p) => p.series)).size > 1;
  const data = points.filter((p) => p.meanTokens !== undefined);
  const { fig, width } = slot(
    container,
    "tokens-vs-r",
    "Mean generated tokens against recurrences",
  );
  const svg = Plot.plot({
    ariaLabel: "Mean generated tokens against recurrences",
    width,
    height: 240,
    marginLeft: 48,
    x: recurrenceAxis(data.map((p) => p.recurrences)),
    y: { label: "↑ mean generated tokens", grid: true, zero: true, nice: true },
    color: { legend: several },
    marks: [
      Plot.ruleY([0]),
      Plot.line(data, {
        x: "recurrences",
        y: "meanTokens",
        stroke: several ? "series" : "seagreen",
        z: "series",
        className: "mark-tokens-line",
      }),
      Plot.dot(data, {
        x: "recurrences",
        y: "meanTokens",
        fill: several ? "series" : "seagreen",
        r: 4,
        className: "mark-tokens",
        title: (p: SeriesPoint) => `r = ${p.recurrences}: ${p.meanTokens?.toFixed(1)} tokens`,
      }),
    ],
  });
  add(fig, asImage(svg, "Mean generated tokens against recurrences"));
  return fig;
}
