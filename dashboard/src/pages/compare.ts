// Compare two runs: per (task, r) both ran, documents paired by content hash, the accuracy of
// each, the paired delta (B − A) and the exact McNemar p-value (evals/stats/mcnemar.ts); or, in
// the equal-FLOPs mode, each run's accuracy read off at the same FLOPs per sample.
import type { RunDetail, RunSummary } from "../../../worker/protocol.ts";
import { api } from "../api.ts";
import { accuracyVsFlops, accuracyVsRecurrence, type SeriesPoint } from "../charts.ts";
import { equalFlopsTable, INTERPOLATION_NOTE } from "../compute-matched.ts";
import { add, h, headerRow, query, runLink, setQuery } from "../dom.ts";
import { checkpointFacts, percent, points, pValue, shortHash } from "../format.ts";
import { page } from "../layout.ts";
import { flopsCurve, pairedDeltas } from "../model.ts";

const ALPHA = 0.05;
const COLUMNS = ["r", "A", "B", "delta (B − A)", "p", "paired n", "only A ✓", "only B ✓"];

page("this comparison", async function renderCompare(container) {
  const params = query();
  const a = params.get("a");
  const b = params.get("b");
  const mode = params.get("mode") === "flops" ? "flops" : "paired";
  const [runs, checkpoints] = await Promise.all([api.runs(), api.checkpoints()]);
  const facts = (run: RunSummary) =>
    checkpointFacts(
      run.checkpoint_id,
      checkpoints.find((c) => c.id === run.checkpoint_id),
    );
  container.replaceChildren(h("h1", {}, "Compare two runs"), picker(runs, a, b, mode, facts));
  if (!a || !b) {
    add(
      container,
      h(
        "p",
        { className: "muted" },
        "Pick two runs on the same task to compare them document by document.",
      ),
    );
    return;
  }
  const [runA, runB, outA, outB] = await Promise.all([
    api.run(a),
    api.run(b),
    api.outcomes(a),
    api.outcomes(b),
  ]);
  document.title = `${runA.checkpoint_name} vs ${runB.checkpoint_name} · evals`;
  const deltas = pairedDeltas(outA, outB);
  container.querySelector("h1")?.remove();
  container.insertBefore(
    h(
      "h1",
      {},
      "A ",
      h("a", { href: runLink(runA.id) }, runA.checkpoint_name),
      " vs B ",
      h("a", { href: runLink(runB.id) }, runB.checkpoint_name),
    ),
    container.firstChild,
  );
  add(
    container,
    h(
      "p",
      { className: "muted small checkpoint-facts" },
      `A: ${facts(runA)}`,
      h("br", {}),
      `B: ${facts(runB)}`,
    ),
  );
  if (mode === "flops") {
    equalFlopsMode(container, runA, runB);
    return;
  }
  if (!deltas.length) {
    add(
      container,
      h(
        "div",
        { className: "message", role: "alert" },
        h("h2", {}, "Nothing to pair"),
        h("p", {}, "These runs share no (task, r) with results on the same documents."),
      ),
    );
    return;
  }
  add(
    container,
    h(
      "p",
      { className: "muted small" },
      `Delta = B − A on documents both runs scored (paired by content hash). p: exact McNemar test (two-sided) on the discordant pairs; bold when p < ${ALPHA}.`,
    ),
  );
  // One table per task (the delta and its p-value first: on a phone later columns scroll).
  for (const task of new Set(deltas.map((d) => d.task))) {
    const plots = h("div", { className: "plots" });
    add(
      container,
      h("h2", {}, task),
      h(
        "div",
        {
          className: "table-wrap",
          role: "region",
          tabindex: 0,
          "aria-label": `Paired comparison of ${task}`,
        },
        h(
          "table",
          { className: "compare", "data-task": task },
          h("thead", {}, headerRow(COLUMNS, COLUMNS)),
          h(
            "tbody",
            {},
            deltas
              .filter((d) => d.task === task)
              .map((d) =>
                h(
                  "tr",
                  {
                    "data-key": `${d.task}@${d.recurrences}`,
                    className: d.pValue < ALPHA ? "significant" : "",
                  },
                  h("td", { className: "num" }, String(d.recurrences)),
                  h("td", { className: "num" }, percent(d.accuracyA)),
                  h("td", { className: "num" }, percent(d.accuracyB)),
                  h(
                    "td",
                    { className: `num delta ${d.delta > 0 ? "up" : d.delta < 0 ? "down" : ""}` },
                    points(d.delta),
                  ),
                  h("td", { className: "num", "data-p": d.pValue }, pValue(d.pValue)),
                  h("td", { className: "num" }, String(d.n)),
                  h("td", { className: "num" }, String(d.onlyA)),
                  h("td", { className: "num" }, String(d.onlyB)),
                ),
              ),
          ),
        ),
      ),
      plots,
    );
    const series = [...seriesOf(runA, task, "A"), ...seriesOf(runB, task, "B")];
    if (series.length) add(plots, accuracyVsRecurrence(plots, series, "Accuracy of A and B"));
  }
});

/** Per task both ran: A's and B's accuracy read off at the same FLOPs per sample. */
function equalFlopsMode(container: HTMLElement, runA: RunDetail, runB: RunDetail): void {
  add(
    container,
    h(
      "p",
      { className: "muted small" },
      `Each run's accuracy at equal mean FLOPs per sample, at every FLOPs value where one of them was measured and both can be read; Δ = B − A. ${INTERPOLATION_NOTE} No paired test: interpolated values pair no documents.`,
    ),
  );
  const tasks = [...new Set(runA.aggregates.map((x) => x.task))].filter((task) =>
    runB.aggregates.some((x) => x.task === task),
  );
  if (!tasks.length) {
    add(
      container,
      h(
        "div",
        { className: "message", role: "alert" },
        h("h2", {}, "Nothing to compare"),
        h("p", {}, "These runs share no task."),
      ),
    );
    return;
  }
  for (const task of tasks) {
    const seriesA = seriesOf(runA, task, "A");
    const seriesB = seriesOf(runB, task, "B");
    const plots = h("div", { className: "plots" });
    add(
      container,
      h("h2", {}, task),
      equalFlopsTable(
        [
          { label: "A", curve: flopsCurve(seriesA) },
          { label: "B", curve: flopsCurve(seriesB) },
        ],
        "later-first",
      ),
      plots,
    );
    add(
      plots,
      accuracyVsFlops(plots, [...seriesA, ...seriesB], [], {
        title: `${task}: accuracy of A and B against FLOPs`,
      }),
    );
  }
}

function seriesOf(run: RunDetail, task: string, label: string): SeriesPoint[] {
  return run.aggregates
    .filter((a) => a.task === task)
    .map((a) => {
      const m = a.metrics[a.primary_metric];
      return {
        series: `${label}: ${run.checkpoint_name} (${shortHash(run.checkpoint_id)})`,
        recurrences: a.recurrences,
        accuracy: m?.accuracy ?? 0,
        ci95: m?.ci95 ?? [0, 0],
        meanFlops: a.mean_flops,
        n: a.n,
      };
    });
}

function picker(
  runs: RunSummary[],
  a: string | null,
  b: string | null,
  mode: "paired" | "flops",
  facts: (run: RunSummary) => string,
): HTMLElement {
  const options = (selected: string | null) => [
    h("option", { value: "" }, "— pick a run —"),
    ...runs.map((run) =>
      h(
        "option",
        { value: run.id, selected: run.id === selected },
        `${run.checkpoint_name} · ${facts(run)} · r ${run.config.recurrences.join(",")} · ${run.config.tasks.join(",")}${run.published ? "" : " (unpublished)"}`,
      ),
    ),
  ];
  const selectA = h("select", { name: "a" }, options(a));
  const selectB = h("select", { name: "b" }, options(b));
  const selectMode = h(
    "select",
    { name: "mode" },
    h("option", { value: "paired", selected: mode === "paired" }, "paired, at equal r"),
    h("option", { value: "flops", selected: mode === "flops" }, "at equal FLOPs"),
  );
  return h(
    "form",
    {
      className: "controls picker",
      onsubmit: ((event: Event) => {
        event.preventDefault();
        setQuery({
          a: selectA.value,
          b: selectB.value,
          mode: selectMode.value === "flops" ? "flops" : null,
        });
        location.reload();
      }) as EventListener,
    },
    h("label", {}, "A ", selectA),
    h("label", {}, "B ", selectB),
    h("label", {}, "Compare ", selectMode),
    h("button", { type: "submit" }, "Compare"),
  );
}
