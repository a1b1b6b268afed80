// The public leaderboard: per task, one row per published run, sortable, filterable by model
// family, with the whole state in the address so a view can be linked.
import { api } from "../api.ts";
import { accuracyVsFlops, accuracyVsRecurrence, type SeriesPoint } from "../charts.ts";
import { add, h, query, runLink, setQuery, showMessage } from "../dom.ts";
import { flops, percent, shortHash } from "../format.ts";
import { page } from "../layout.ts";
import {
  defaultTask,
  type LeaderboardRow,
  leaderboardRows,
  recurrenceColumns,
  sortRows,
} from "../model.ts";

interface Column {
  key: string;
  label: string;
  title?: string;
  numeric?: boolean;
  cell: (row: LeaderboardRow) => Node | string;
}

page("the leaderboard", async function renderLeaderboard(container) {
  const [board, checkpoints] = await Promise.all([api.leaderboard(), api.checkpoints()]);
  const tasks = board.tasks.map((t) => t.task);
  if (!tasks.length) {
    showMessage(
      container,
      "No published runs yet",
      "Runs appear here once they finish and are published (POST /api/runs/{id}/publish).",
    );
    return;
  }

  const draw = () => {
    const params = query();
    const task = tasks.includes(params.get("task") ?? "")
      ? params.get("task")!
      : defaultTask(tasks)!;
    const family = params.get("family") ?? "";
    const sort = params.get("sort") ?? "best";
    const dir = params.get("dir") === "asc" ? "asc" : "desc";

    const all = leaderboardRows(board, checkpoints, task);
    const families = [...new Set(all.map((r) => r.family))].sort();
    const rows = sortRows(
      all.filter((r) => !family || r.family === family),
      sort,
      dir,
    );
    const rs = recurrenceColumns(all);
    const selected = new Set<string>();

    const select = (
      name: string,
      label: string,
      value: string,
      options: [string, string][],
    ): HTMLElement =>
      h(
        "label",
        {},
        `${label} `,
        h(
          "select",
          {
            name,
            onchange: ((event: Event) => {
              setQuery({ [name]: (event.target as HTMLSelectElement).value });
              draw();
            }) as EventListener,
          },
          options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)),
        ),
      );

    const compareButton = h(
      "a",
      { className: "button disabled", href: "#", "aria-disabled": "true", id: "compare-selected" },
      "Compare 2 selected runs",
    );
    const updateCompare = () => {
      const ids = [...selected];
      const ready = ids.length === 2;
      compareButton.className = ready ? "button" : "button disabled";
      compareButton.setAttribute("aria-disabled", String(!ready));
      compareButton.setAttribute(
        "href",
        ready ? `/compare?${new URLSearchParams({ a: ids[0], b: ids[1] })}` : "#",
      );
    };

    const columns: Column[] = [
      {
        key: "pick",
        label: "",
        cell: (row) =>
          h("input", {
            type: "checkbox",
            "aria-label": `select ${row.label} for comparison`,
            onchange: ((event: Event) => {
              if ((event.target as HTMLInputElement).checked) selected.add(row.runId);
              else selected.delete(row.runId);
              updateCompare();
            }) as EventListener,
          }),
      },
      {
        key: "model",
        label: "Model",
        cell: (row) =>
          h(
            "span",
            {},
            h("a", { href: runLink(row.runId) }, row.model),
            row.recurrent ? null : h("span", { className: "tag" }, "non-recurrent"),
            h(
              "div",
              { className: "muted small checkpoint-facts" },
              row.source ? `${row.facts} · ${row.source}` : row.facts,
            ),
          ),
      },
      {
        key: "checkpoint",
        label: "Checkpoint",
        title: "sha256 of the checkpoint manifest",
        cell: (row) => h("code", { title: row.checkpointId }, shortHash(row.checkpointId)),
      },
      {
        key: "train",
        label: "Train r",
        title: "recurrence the checkpoint was trained with, when known",
        numeric: true,
        cell: (row) => (row.trainRecurrence === null ? "—" : String(row.trainRecurrence)),
      },
      {
        key: "status",
        label: "Status",
        title: "verified: every sample came from a trusted runner",
        cell: (row) =>
          h(
            "span",
            { className: row.verified ? "badge verified" : "badge community" },
            row.verified ? "verified" : "community",
          ),
      },
      ...rs.map(
        (r): Column => ({
          key: `r${r}`,
          label: `r=${r}`,
          numeric: true,
          cell: (row) => {
            const p = row.points.find((x) => x.recurrences === r);
            if (!p) return "—";
            return h(
              "span",
              {
                className: p === row.best ? "best" : "",
                title: `95% CI ${percent(p.ci95[0])} – ${percent(p.ci95[1])}, n = ${p.n}`,
              },
              percent(p.accuracy),
            );
          },
        }),
      ),
      {
        key: "best_r",
        label: "Best r",
        numeric: true,
        cell: (row) => String(row.best.recurrences),
      },
      {
        key: "best",
        label: "Best",
        numeric: true,
        cell: (row) => percent(row.best.accuracy),
      },
      {
        key: "flops",
        label: "FLOPs @ best",
        title: "mean FLOPs per sample at the best r",
        numeric: true,
        cell: (row) => flops(row.best.meanFlops),
      },
    ];

    const header = h(
      "tr",
      {},
      columns.map((col) => {
        if (col.key === "pick") return h("th", { scope: "col" }, "");
        const active = col.key === sort;
        const arrow = active ? (dir === "asc" ? " ▲" : " ▼") : "";
        return h(
          "th",
          {
            scope: "col",
            className: col.numeric ? "num" : "",
            "aria-sort": active ? (dir === "asc" ? "ascending" : "descending") : null,
            title: col.title,
          },
          h(
            "button",
            {
              className: "sort",
              "data-sort": col.key,
              onclick: (() => {
                const nextDir = active
                  ? dir === "asc"
                    ? "desc"
                    : "asc"
                  : col.numeric || col.key === "status"
                    ? "desc"
                    : "asc";
                setQuery({ sort: col.key, dir: nextDir });
                draw();
              }) as EventListener,
            },
            col.label + arrow,
          ),
        );
      }),
    );
    const body = rows.map((row) =>
      h(
        "tr",
        { "data-run": row.runId },
        columns.map((col) => h("td", { className: col.numeric ? "num" : "" }, col.cell(row))),
      ),
    );

    const metric = all[0]?.metric ?? "";
    const controls = h(
      "div",
      { className: "controls" },
      select(
        "task",
        "Task",
        task,
        tasks.map((t) => [t, t]),
      ),
      select("family", "Model family", family, [
        ["", "all"],
        ...families.map((f): [string, string] => [f, f]),
      ]),
      compareButton,
    );
    const table = h(
      "div",
      { className: "table-wrap" },
      h(
        "table",
        { className: "leaderboard", "data-task": task },
        h("thead", {}, header),
        h("tbody", {}, body),
      ),
    );
    const plots = h("div", { className: "plots" });
    container.replaceChildren(
      h("h2", {}, `Leaderboard · ${task}`, h("span", { className: "muted small" }, ` · ${metric}`)),
      controls,
      rows.length
        ? table
        : h("p", { className: "message" }, "No published run matches the filter."),
      plots,
    );

    const series: SeriesPoint[] = rows
      .filter((row) => row.recurrent)
      .flatMap((row) =>
        row.points.map((p) => ({
          series: row.label,
          recurrences: p.recurrences,
          accuracy: p.accuracy,
          ci95: p.ci95,
          meanFlops: p.meanFlops,
          n: p.n,
        })),
      );
    const baselines = rows
      .filter((row) => !row.recurrent)
      .map((row) => ({
        label: row.label,
        accuracy: row.best.accuracy,
        meanFlops: row.best.meanFlops,
      }));
    if (series.length) {
      add(plots, accuracyVsRecurrence(plots, series), accuracyVsFlops(plots, series, baselines));
    }
  };
  draw();
});
