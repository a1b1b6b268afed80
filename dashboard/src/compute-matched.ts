// The compute-matched view (the retrofit paper's claim: better accuracy at a given compute budget
// than the non-recurrent model): a recurrent run's accuracy-vs-FLOPs curve against its
// non-recurrent baselines, and a table reading each one's accuracy off at equal FLOPs. The compare
// page uses the same table for two runs.
import type { PublicCheckpoint } from "../../worker/routes/public-reads.ts";
import { accuracyVsFlops, type SeriesPoint } from "./charts.ts";
import { add, h, headerRow } from "./dom.ts";
import { flops, percent, points } from "./format.ts";
import {
  accuracyAtFlops,
  compareAtEqualFlops,
  type FlopsPoint,
  flopsCurve,
  type LeaderboardRow,
} from "./model.ts";

export const INTERPOLATION_NOTE =
  "≈: read off by linear interpolation in log FLOPs between the two measured points around it; the interval's ends are interpolated the same way (an approximation, not a measured interval). Nothing is extrapolated: — outside a curve's measured range.";

export interface NamedCurve {
  label: string;
  curve: FlopsPoint[];
}

function valueCell(value: FlopsPoint | null, measured: readonly FlopsPoint[]): HTMLElement {
  if (!value) return h("td", { className: "num", title: "outside the measured range" }, "—");
  const interpolated = !measured.some((p) => p.flops === value.flops);
  return h(
    "td",
    { className: "num", "data-interpolated": String(interpolated), "data-acc": value.accuracy },
    interpolated ? "≈ " : "",
    percent(value.accuracy),
    h(
      "span",
      { className: "ci small muted" },
      ` (${percent(value.ci95[0])}–${percent(value.ci95[1])})`,
    ),
  );
}

/**
 * Every curve's accuracy at each FLOPs value where one was measured and at least two can be read.
 * `delta` says which difference each later curve gets: against the first as `later − first`
 * (compare: B − A) or `first − later` (compute-matched: recurrent − baseline).
 */
export function equalFlopsTable(
  curves: readonly NamedCurve[],
  delta: "later-first" | "first-later",
): HTMLElement {
  const range = (c: NamedCurve) => {
    const xs = c.curve.map((p) => p.flops);
    return xs.length > 1 ? `${flops(Math.min(...xs))}–${flops(Math.max(...xs))}` : flops(xs[0]);
  };
  const all = compareAtEqualFlops(curves.map((c) => c.curve));
  // Curves never read at any of these budgets get a sentence instead of an empty column.
  const kept = curves
    .map((curve, i) => ({ curve, i }))
    .filter(({ i }) => i === 0 || all.some((row) => row.values[i] && row.values[0]));
  const rows = all
    .map((row) => ({ flops: row.flops, values: kept.map(({ i }) => row.values[i]) }))
    .filter((row) => row.values[0] && row.values.slice(1).some((v) => v));
  const left = curves.filter((c) => !kept.some((k) => k.curve === c));
  const unmatched = left.length
    ? h(
        "p",
        { className: "muted small equal-flops-unmatched" },
        `Not matched (no FLOPs value where both can be read without extrapolating): ${left
          .map((c) => `${c.label} at ${range(c)}`)
          .join("; ")}, against ${curves[0].label} at ${range(curves[0])}.`,
      )
    : null;
  if (!rows.length) {
    return h(
      "div",
      {},
      h("p", { className: "message equal-flops-empty" }, "Nothing to match."),
      unmatched,
    );
  }
  const [first, ...later] = kept.map((k) => k.curve);
  const deltaLabel = delta === "later-first" ? "Δ (B − A)" : "Δ (recurrent − baseline)";
  const labels = ["FLOPs per sample", first.label, ...later.flatMap((c) => [c.label, deltaLabel])];
  const table = h(
    "div",
    {
      className: "table-wrap",
      role: "region",
      tabindex: 0,
      "aria-label": "Accuracy at equal FLOPs",
    },
    h(
      "table",
      { className: "equal-flops" },
      h("thead", {}, headerRow(labels, labels)),
      h(
        "tbody",
        {},
        rows.map((row) => {
          const [own, ...others] = row.values;
          return h(
            "tr",
            { "data-flops": row.flops },
            h("th", { scope: "row", className: "num" }, flops(row.flops)),
            valueCell(own, first.curve),
            others.flatMap((value, i) => {
              const d =
                own && value
                  ? delta === "later-first"
                    ? value.accuracy - own.accuracy
                    : own.accuracy - value.accuracy
                  : null;
              return [
                valueCell(value, later[i].curve),
                h(
                  "td",
                  { className: "num delta", "data-delta": d ?? "" },
                  d === null ? "—" : points(d),
                ),
              ];
            }),
          );
        }),
      ),
    ),
  );
  return h("div", {}, table, unmatched);
}

/** Non-recurrent rows cut from the same source model as `row`'s checkpoint. */
function baselinesOf(
  row: LeaderboardRow,
  rows: readonly LeaderboardRow[],
  checkpoints: readonly PublicCheckpoint[],
): LeaderboardRow[] {
  const source = checkpoints.find((c) => c.id === row.checkpointId)?.source_id;
  const sourceOf = (id: string) => checkpoints.find((c) => c.id === id)?.source_id;
  return rows.filter(
    (other) => !other.recurrent && source && sourceOf(other.checkpointId) === source,
  );
}

/**
 * The leaderboard's compute-matched section for the rows of one comparable group: a picker of the
 * recurrent runs (default the first with a baseline), the FLOPs plot of it and its baselines with
 * the read-off points, and the equal-FLOPs table.
 */
export function computeMatchedSection(
  container: HTMLElement,
  rows: readonly LeaderboardRow[],
  checkpoints: readonly PublicCheckpoint[],
  chosen: string | null,
  onChoose: (runId: string) => void,
): HTMLElement {
  const recurrent = rows.filter((row) => row.recurrent);
  const section = h(
    "section",
    { className: "compute-matched", "aria-labelledby": "compute-matched-title" },
    h("h2", { id: "compute-matched-title" }, "Compute-matched: accuracy at equal FLOPs"),
  );
  // In the page before the plot is drawn, so it is drawn at the width it really has.
  add(container, section);
  const row =
    recurrent.find((r) => r.runId === chosen) ??
    recurrent.find((r) => baselinesOf(r, rows, checkpoints).length) ??
    recurrent[0];
  if (!row) return section;
  const baselines = baselinesOf(row, rows, checkpoints);
  add(
    section,
    h(
      "div",
      { className: "controls" },
      h(
        "label",
        {},
        "Recurrent run ",
        h(
          "select",
          {
            name: "matched",
            onchange: ((event: Event) =>
              onChoose((event.target as HTMLSelectElement).value)) as EventListener,
          },
          recurrent.map((r) =>
            h("option", { value: r.runId, selected: r === row }, `${r.label} · ${r.facts}`),
          ),
        ),
      ),
    ),
  );
  if (!baselines.length) {
    add(
      section,
      h(
        "p",
        { className: "message" },
        `No non-recurrent run of a checkpoint cut from the same source model as ${row.label} is in this table: nothing to match it against.`,
      ),
    );
    return section;
  }
  const own = flopsCurve(row.points);
  const curves: NamedCurve[] = [
    { label: row.label, curve: own },
    ...baselines.map((b) => ({ label: b.label, curve: flopsCurve(b.points) })),
  ];
  const series: SeriesPoint[] = row.points.map((p) => ({
    series: row.label,
    recurrences: p.recurrences,
    accuracy: p.accuracy,
    ci95: p.ci95,
    meanFlops: p.meanFlops,
    n: p.n,
  }));
  // Where the recurrent curve is read off at each baseline's FLOPs (interpolated points only).
  const readOffs = baselines.flatMap((b) =>
    b.points
      .map((p) => accuracyAtFlops(own, p.meanFlops))
      .filter((v): v is FlopsPoint => v !== null && !own.some((p) => p.flops === v.flops))
      .map((v) => ({ label: row.label, ...v })),
  );
  const plots = h("div", { className: "plots" });
  add(
    section,
    h(
      "p",
      { className: "muted small" },
      `${row.label} at every r against the non-recurrent checkpoints cut from the same source model; the table reads each one's accuracy at the FLOPs where any of them was measured. ${INTERPOLATION_NOTE}`,
    ),
    plots,
    equalFlopsTable(curves, "first-later"),
  );
  add(
    plots,
    accuracyVsFlops(
      plots,
      series,
      baselines.map((b) => ({
        label: b.label,
        accuracy: b.points[0].accuracy,
        meanFlops: b.points[0].meanFlops,
        ci95: b.points[0].ci95,
      })),
      {
        title: `${row.label} against its non-recurrent baselines (× read off at equal FLOPs)`,
        readOffs,
      },
    ),
  );
  section.querySelector("figure")?.setAttribute("data-plot", "compute-matched");
  return section;
}
