// The three plots (Observable Plot): accuracy against r with 95% CI bars, accuracy against mean
// FLOPs per sample on a log axis (with the non-recurrent baseline), mean generated tokens against r.
// Every mark carries a class (`mark-accuracy`, `mark-ci95`, `mark-baseline`, …) so tests find its points.
import * as Plot from "@observablehq/plot";
import { add } from "./dom.ts";
import { flops, percent } from "./format.ts";

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
}

/**
 * Puts an empty figure into `container` first, so the plot is drawn at the width its grid cell
 * really has (a phone, half a laptop screen) instead of drawn wide and scaled down.
 */
function slot(container: HTMLElement, name: string, title: string) {
  const fig = document.createElement("figure");
  fig.className = "plot";
  fig.dataset.plot = name;
  const caption = document.createElement("figcaption");
  caption.textContent = title;
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
  const several = new Set(points.map((p) => p.series)).size > 1;
  const { fig, width } = slot(container, "accuracy-vs-r", title);
  const x = dodged(points);
  const svg = Plot.plot({
    width,
    height: 280,
    marginLeft: 48,
    x: recurrenceAxis(points.map((p) => p.recurrences)),
    y: accuracyAxis(points, []),
    color: { legend: several },
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
  add(fig, svg);
  return fig;
}

export function accuracyVsFlops(
  container: HTMLElement,
  points: SeriesPoint[],
  baselines: BaselinePoint[] = [],
  title = "Accuracy against mean FLOPs per sample (log)",
): HTMLElement {
  const several = new Set(points.map((p) => p.series)).size > 1;
  const all = [...points.map((p) => p.meanFlops), ...baselines.map((b) => b.meanFlops)].filter(
    (x) => x > 0,
  );
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const { fig, width } = slot(container, "accuracy-vs-flops", title);
  const svg = Plot.plot({
    width,
    height: 280,
    marginLeft: 48,
    marginRight: 24,
    x: {
      type: "log",
      domain: [lo / 1.5, hi * 1.5],
      label: "mean FLOPs per sample →",
      tickFormat: "~s",
      ticks: 5,
    },
    y: accuracyAxis(
      points,
      baselines.map((b) => b.accuracy),
    ),
    color: { legend: several },
    marks: [
      Plot.ruleY([0]),
      Plot.line(points, {
        x: "meanFlops",
        y: "accuracy",
        stroke: several ? "series" : "steelblue",
        z: "series",
        className: "mark-flops-line",
      }),
      Plot.dot(points, {
        x: "meanFlops",
        y: "accuracy",
        fill: several ? "series" : "steelblue",
        r: 4,
        className: "mark-accuracy",
        title: (p: SeriesPoint) =>
          `${p.series}\nr = ${p.recurrences}: ${percent(p.accuracy)} at ${flops(p.meanFlops)}`,
      }),
      Plot.text(points, {
        x: "meanFlops",
        y: "accuracy",
        text: (p: SeriesPoint) => `r=${p.recurrences}`,
        dy: -10,
        fontSize: 10,
        className: "mark-r-labels",
      }),
      Plot.dot(baselines, {
        x: "meanFlops",
        y: "accuracy",
        symbol: "diamond2",
        r: 6,
        stroke: "#c2410c",
        strokeWidth: 2,
        className: "mark-baseline",
        title: (b: BaselinePoint) =>
          `non-recurrent baseline ${b.label}: ${percent(b.accuracy)} at ${flops(b.meanFlops)}`,
      }),
      Plot.text(baselines, {
        x: "meanFlops",
        y: "accuracy",
        text: () => "baseline",
        dy: 14,
        fontSize: 10,
        fill: "#c2410c",
        className: "mark-baseline-label",
      }),
    ],
  });
  add(fig, svg);
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
  add(fig, svg);
  return fig;
}
