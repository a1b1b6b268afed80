// One checkpoint across tasks: its math and general (loglikelihood) accuracy against r side by
// side, the retrofit paper's "healing" question — does a retrofit keep its general ability as r
// grows? One plot per suite and a table of every published run of the checkpoint.
import { api } from "../api.ts";
import { accuracyVsRecurrence, type SeriesPoint } from "../charts.ts";
import { add, h, headerRow, query, runLink, showMessage } from "../dom.ts";
import { checkpointFacts, percent } from "../format.ts";
import { page } from "../layout.ts";
import { checkpointCurves, type TaskCurve } from "../model.ts";

page("this checkpoint", async function renderCheckpoint(container) {
  const id = query().get("id");
  const [board, checkpoints] = await Promise.all([api.leaderboard(), api.checkpoints()]);
  const published = checkpoints.filter((c) =>
    board.tasks.some((t) => t.entries.some((e) => e.checkpoint_id === c.id)),
  );
  const checkpoint = published.find((c) => c.id === id);
  if (!checkpoint) {
    showMessage(
      container,
      id ? "Checkpoint not found" : "No checkpoint given",
      id
        ? `No published run uses checkpoint ${id}. Pick one from the leaderboard (the “all tasks” link under a model).`
        : "Open a checkpoint from the leaderboard (the “all tasks” link under a model).",
    );
    return;
  }
  document.title = `${checkpoint.name} · evals`;
  const curves = checkpointCurves(board, checkpoint.id);
  const math = curves.filter((c) => !c.general);
  const general = curves.filter((c) => c.general);
  const rs = [...new Set(curves.flatMap((c) => c.points.map((p) => p.recurrences)))].sort(
    (a, b) => a - b,
  );
  const plots = h("div", { className: "plots" });
  container.replaceChildren(
    h("h1", {}, checkpoint.name),
    h(
      "p",
      { className: "muted small checkpoint-facts" },
      checkpointFacts(checkpoint.id, checkpoint),
    ),
    h(
      "p",
      { className: "muted small" },
      "Math (generated answers, exact match) and general (loglikelihood: acc or acc_norm as lm-eval reports each task) accuracy against r, side by side: does the checkpoint keep its general ability as r grows? Bars: 95% intervals.",
    ),
    plots,
    taskTable("Math tasks", math, rs),
    taskTable("General tasks", general, rs),
  );
  const series = (list: TaskCurve[]): SeriesPoint[] =>
    list.flatMap((c) =>
      c.points.map((p) => ({
        series: `${c.label} (${c.metric})`,
        recurrences: p.recurrences,
        accuracy: p.accuracy,
        ci95: p.ci95,
        meanFlops: p.meanFlops,
        n: p.n,
      })),
    );
  for (const [name, list, title] of [
    ["math-vs-r", math, "Math: accuracy against recurrences"],
    ["general-vs-r", general, "General: accuracy against recurrences"],
  ] as const) {
    if (!list.length) {
      add(
        plots,
        h("p", { className: "message", "data-empty": name }, `${title}: no published run.`),
      );
      continue;
    }
    const fig = accuracyVsRecurrence(plots, series(list), title);
    fig.dataset.plot = name;
  }
});

function taskTable(title: string, curves: TaskCurve[], rs: number[]): HTMLElement {
  if (!curves.length) return h("div");
  const labels = ["Task", "Metric", ...rs.map((r) => `r=${r}`)];
  return h(
    "section",
    {},
    h("h2", {}, title),
    h(
      "div",
      { className: "table-wrap", role: "region", tabindex: 0, "aria-label": `${title}` },
      h(
        "table",
        { className: "checkpoint-tasks", "data-suite": curves[0].general ? "general" : "math" },
        h("thead", {}, headerRow(labels, labels.slice(2))),
        h(
          "tbody",
          {},
          curves.map((c) =>
            h(
              "tr",
              { "data-task": c.task },
              h("th", { scope: "row" }, h("a", { href: runLink(c.runId) }, c.label)),
              h("td", {}, c.metric),
              rs.map((r) => {
                const p = c.points.find((x) => x.recurrences === r);
                return h(
                  "td",
                  {
                    className: "num",
                    title: p
                      ? `95% CI ${percent(p.ci95[0])}–${percent(p.ci95[1])}, n = ${p.n}`
                      : "",
                  },
                  p ? percent(p.accuracy) : "—",
                );
              }),
            ),
          ),
        ),
      ),
    ),
  );
}
