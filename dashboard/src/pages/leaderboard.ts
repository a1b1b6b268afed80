// The public leaderboard: per task, the accuracy of every published run at one chosen r with its
// Wilson interval, runs ranked only against runs with the same n, few-shot, token cap, dataset
// version and weight precision (one table per such group), plots of the first group, and the
// compute-matched view. The whole state lives in the address so a view can be linked.
import type { RunDetail } from "../../../worker/protocol.ts";
import { api } from "../api.ts";
import { accuracyVsFlops, accuracyVsRecurrence, type SeriesPoint } from "../charts.ts";
import { computeMatchedSection } from "../compute-matched.ts";
import { add, h, query, runLink, setQuery, showMessage } from "../dom.ts";
import { flops, percent, shortHash } from "../format.ts";
import { page } from "../layout.ts";
import {
  type ComparableGroup,
  comparableGroups,
  defaultRecurrence,
  defaultTask,
  isGeneralMetric,
  type LeaderboardRow,
  leaderboardRows,
  pointAt,
  precisionLabel,
  type RowPoint,
  type RunSettings,
  recurrenceColumns,
  sortRows,
} from "../model.ts";

interface Column {
  key: string;
  label: string;
  title?: string;
  numeric?: boolean;
  /** Hidden on a phone (the table keeps rank, model and the headline). */
  secondary?: boolean;
  /** Not a sort key. */
  fixed?: boolean;
  cell: (row: LeaderboardRow) => Node | string;
}

/** `62.5%` over `(30.6–86.3)`: the headline and its Wilson interval. */
function withInterval(p: RowPoint | undefined): Node | string {
  if (!p) return "—";
  return h(
    "span",
    { className: "headline" },
    percent(p.accuracy),
    h("span", { className: "ci small muted" }, ` (${percent(p.ci95[0])}–${percent(p.ci95[1])})`),
  );
}

function fewshotText(settings: RunSettings): string {
  return settings.numFewshot === null ? "—" : String(settings.numFewshot);
}

function capText(settings: RunSettings): string {
  return settings.maxGenToks === null ? "—" : String(settings.maxGenToks);
}

function datasetText(settings: RunSettings): string {
  if (!settings.datasetId) return "—";
  return `${shortHash(settings.datasetId).slice(0, 8)}${settings.canonicalData ? "" : " (pinned)"}`;
}

/** One line naming a group's settings, and how a later group differs from the first. */
function groupCaption(group: ComparableGroup, index: number, first: ComparableGroup): string {
  const s = group.settings;
  const facts = [
    `n = ${group.n ?? "—"}`,
    `${fewshotText(s)}-shot`,
    s.maxGenToks === null ? "no generation" : `max ${s.maxGenToks} tokens`,
    `dataset ${datasetText(s)}`,
    `precision ${group.dtype}`,
  ].join(" · ");
  if (index === 0) return `Ranked together: ${facts}`;
  const differs = [
    group.n !== first.n && "n",
    s.numFewshot !== first.settings.numFewshot && "few-shot",
    s.maxGenToks !== first.settings.maxGenToks && "token cap",
    s.datasetId !== first.settings.datasetId && "dataset version",
    group.dtype !== first.dtype && "precision",
  ].filter(Boolean);
  const why = group.n === null ? "no result at this r" : `differs in ${differs.join(", ")}`;
  return `Not ranked with the table above (${why}): ${facts}`;
}

page("the leaderboard", async function renderLeaderboard(container) {
  const [board, checkpoints, taskFacts] = await Promise.all([
    api.leaderboard(),
    api.checkpoints(),
    api.tasks().catch(() => []),
  ]);
  const tasks = board.tasks.map((t) => t.task);
  if (!tasks.length) {
    showMessage(
      container,
      "No published runs yet",
      "Runs appear here once they finish and are published (POST /api/runs/{id}/publish).",
    );
    return;
  }
  // Settings (few-shot, token cap, dataset version) are in each run's detail.
  const runIds = [...new Set(board.tasks.flatMap((t) => t.entries.map((e) => e.run_id)))];
  const details = new Map<string, RunDetail>();
  await Promise.all(
    runIds.map((id) =>
      api.run(id).then(
        (detail) => details.set(id, detail),
        () => undefined,
      ),
    ),
  );
  const metricOf = (task: string) =>
    board.tasks.find((t) => t.task === task)?.entries[0]?.primary_metric ?? "";

  const draw = () => {
    const params = query();
    const task = tasks.includes(params.get("task") ?? "")
      ? params.get("task")!
      : defaultTask(tasks)!;
    const family = params.get("family") ?? "";
    const sort = params.get("sort") ?? "acc";
    const dir = params.get("dir") === "asc" ? "asc" : "desc";

    const all = leaderboardRows(board, checkpoints, task, details, taskFacts);
    const families = [...new Set(all.map((r) => r.family))].sort();
    const shown = all.filter((r) => !family || r.family === family);
    const rs = recurrenceColumns(all);
    const askedR = Number(params.get("r"));
    const r = rs.includes(askedR) ? askedR : (defaultRecurrence(shown) ?? rs[0] ?? 1);
    const rows = sortRows(shown, sort, dir, r);
    const groups = comparableGroups(rows, r);
    const hasPerplexity = all.some((row) => row.points.some((p) => p.perplexity));
    const selected = new Set<string>();

    const select = (
      name: string,
      label: string,
      value: string,
      options: [string, string][] | Record<string, [string, string][]>,
    ): HTMLElement => {
      const option = ([v, text]: [string, string]) =>
        h("option", { value: v, selected: v === value }, text);
      const children = Array.isArray(options)
        ? options.map(option)
        : Object.entries(options)
            .filter(([, list]) => list.length)
            .map(([group, list]) => h("optgroup", { label: group }, list.map(option)));
      return h(
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
          children,
        ),
      );
    };

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
        label: "Pick",
        fixed: true,
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
      { key: "rank", label: "#", title: "rank within the table", fixed: true, cell: () => "" },
      {
        key: "model",
        label: "Model",
        cell: (row) =>
          h(
            "span",
            {},
            h("a", { href: runLink(row.runId) }, row.model),
            row.recurrent ? null : h("span", { className: "tag" }, "non-recurrent"),
            // Each table holds one precision (its caption names it); a lossy export also says how
            // closely it agrees with fp32, in the model cell so that a phone shows it too.
            row.dtype === "fp32"
              ? null
              : h(
                  "span",
                  { className: "tag precision lossy", "data-dtype": row.dtype },
                  precisionLabel(row.dtype, row.fidelity, r, row.f16Fidelity),
                ),
            h(
              "div",
              { className: "muted small checkpoint-facts" },
              row.source ? `${row.facts} · ${row.source}` : row.facts,
              " · ",
              h(
                "a",
                { href: `/checkpoint?${new URLSearchParams({ id: row.checkpointId })}` },
                "all tasks",
              ),
            ),
          ),
      },
      {
        key: "status",
        label: "Status",
        title: "verified: every sample came from a trusted runner",
        secondary: true,
        cell: (row) =>
          h(
            "span",
            { className: row.verified ? "badge verified" : "badge community" },
            row.verified ? "verified" : "community",
          ),
      },
      {
        key: "acc",
        label: `Acc. @ r=${r}`,
        title: `${all[0]?.metric ?? "accuracy"} at r = ${r} with its 95% Wilson interval; a non-recurrent checkpoint's r = 1 result holds at every r`,
        numeric: true,
        cell: (row) => {
          const p = pointAt(row, r);
          const note =
            p && p.recurrences !== r ? h("span", { className: "small muted" }, " ‡") : null;
          return h("span", { "data-acc": p?.accuracy ?? "" }, withInterval(p), note);
        },
      },
      ...(hasPerplexity
        ? [
            {
              key: "ppl",
              label: `Perplexity @ r=${r}`,
              title: "exp(−mean loglikelihood) of the target word; lower is better",
              numeric: true,
              fixed: true,
              cell: (row: LeaderboardRow) => {
                const ppl = pointAt(row, r)?.perplexity;
                return ppl ? ppl.value.toFixed(2) : "—";
              },
            } satisfies Column,
          ]
        : []),
      {
        key: "n",
        label: "n",
        title: "documents scored at this r",
        numeric: true,
        fixed: true,
        secondary: true,
        cell: (row) => String(pointAt(row, r)?.n ?? "—"),
      },
      {
        key: "shots",
        label: "Shots",
        title: "few-shot examples per prompt",
        numeric: true,
        fixed: true,
        secondary: true,
        cell: (row) => fewshotText(row.settings),
      },
      {
        key: "cap",
        label: "Max tok.",
        title: "generation cap (max_gen_toks); — for loglikelihood tasks",
        numeric: true,
        fixed: true,
        secondary: true,
        cell: (row) => capText(row.settings),
      },
      {
        key: "dataset",
        label: "Dataset",
        title: "dataset version (id) the prompts were built from; pinned: not the canonical one",
        fixed: true,
        secondary: true,
        cell: (row) =>
          h("code", { title: row.settings.datasetId ?? "" }, datasetText(row.settings)),
      },
      ...rs.map(
        (x): Column => ({
          key: `r${x}`,
          label: `r=${x}`,
          numeric: true,
          secondary: true,
          cell: (row) => {
            const p = row.points.find((point) => point.recurrences === x);
            if (!p) return "—";
            return h(
              "span",
              {
                className: x === r ? "at-r" : "",
                title: `95% CI ${percent(p.ci95[0])} – ${percent(p.ci95[1])}, n = ${p.n}`,
              },
              percent(p.accuracy),
            );
          },
        }),
      ),
      {
        key: "train",
        label: "Train r",
        title: "recurrence the checkpoint was trained with, when known",
        numeric: true,
        secondary: true,
        cell: (row) => (row.trainRecurrence === null ? "—" : String(row.trainRecurrence)),
      },
      {
        key: "flops",
        label: `FLOPs @ r=${r}`,
        title: "mean FLOPs per sample at the chosen r",
        numeric: true,
        secondary: true,
        cell: (row) => flops(pointAt(row, r)?.meanFlops),
      },
    ];

    const header = () =>
      h(
        "tr",
        {},
        columns.map((col) => {
          const className = [col.numeric ? "num" : "", col.secondary ? "secondary" : ""].join(" ");
          if (col.fixed) {
            const label =
              col.key === "pick"
                ? h("span", { className: "visually-hidden" }, col.label)
                : col.label;
            return h("th", { scope: "col", className, title: col.title }, label);
          }
          const active = col.key === sort;
          const arrow = active ? (dir === "asc" ? " ▲" : " ▼") : "";
          return h(
            "th",
            {
              scope: "col",
              className,
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

    /** Rank by accuracy at r within a group (equal accuracies share a rank). */
    const ranks = (group: ComparableGroup) => {
      const values = group.rows.map((row) => pointAt(row, r)?.accuracy ?? null);
      return values.map((v) =>
        v === null ? "—" : String(1 + values.filter((w) => w !== null && w > v).length),
      );
    };

    const tables = groups.map((group, index) => {
      const rank = ranks(group);
      return h(
        "div",
        {
          className: "table-wrap",
          role: "region",
          tabindex: 0,
          "aria-label": `Leaderboard table ${index + 1}`,
        },
        h(
          "table",
          {
            className: "leaderboard",
            "data-task": task,
            "data-group": index,
            "data-ranked": index === 0 ? "true" : "false",
          },
          h(
            "caption",
            { className: index === 0 ? "" : "flag" },
            index === 0 ? null : h("strong", {}, "⚠ "),
            groupCaption(group, index, groups[0]),
          ),
          h("thead", {}, header()),
          h(
            "tbody",
            {},
            group.rows.map((row, i) =>
              h(
                "tr",
                { "data-run": row.runId },
                columns.map((col) => {
                  const className = [
                    col.numeric ? "num" : "",
                    col.secondary ? "secondary" : "",
                  ].join(" ");
                  if (col.key === "model") {
                    return h("th", { scope: "row", className: "model" }, col.cell(row));
                  }
                  return h("td", { className }, col.key === "rank" ? rank[i] : col.cell(row));
                }),
              ),
            ),
          ),
        ),
      );
    });
    const metric = metricOf(task);
    const general = tasks.filter((t) => isGeneralMetric(metricOf(t)));
    const controls = h(
      "div",
      { className: "controls" },
      select("task", "Task", task, {
        Math: tasks.filter((t) => !general.includes(t)).map((t): [string, string] => [t, t]),
        "General (loglikelihood)": general.map((t): [string, string] => [
          t,
          `${t} · ${metricOf(t)}`,
        ]),
      }),
      select(
        "r",
        "Accuracy at r",
        String(r),
        rs.map((x): [string, string] => [String(x), String(x)]),
      ),
      select("family", "Model family", family, [
        ["", "all"],
        ...families.map((f): [string, string] => [f, f]),
      ]),
      compareButton,
    );
    const plots = h("div", { className: "plots" });
    const ranked = groups[0]?.rows ?? [];
    container.replaceChildren(
      h(
        "h1",
        {},
        `Leaderboard · ${task}`,
        h(
          "span",
          { className: "muted small" },
          ` · ${metric}${isGeneralMetric(metric) ? " (loglikelihood)" : ""}`,
        ),
      ),
      controls,
      h(
        "p",
        { className: "muted small" },
        `Ranked by ${metric} at r = ${r} with its 95% Wilson interval, only against runs with the same n, few-shot count, token cap and dataset version. ‡ a non-recurrent checkpoint's r = 1 result (it has no recurrent block, so r changes nothing).`,
      ),
      ...(rows.length
        ? tables
        : [h("p", { className: "message" }, "No published run matches the filter.")]),
      plots,
    );

    const series: SeriesPoint[] = ranked
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
    const baselines = ranked
      .filter((row) => !row.recurrent)
      .map((row) => ({
        label: row.label,
        accuracy: row.points[0].accuracy,
        meanFlops: row.points[0].meanFlops,
        ci95: row.points[0].ci95,
      }));
    if (series.length) {
      const note = groups.length > 1 ? " — runs of the first table" : "";
      add(
        plots,
        accuracyVsRecurrence(plots, series, `Accuracy against recurrences (95% CI)${note}`),
        accuracyVsFlops(plots, series, baselines, {
          title: `Accuracy against mean FLOPs per sample (log scale, 95% CI)${note}`,
        }),
      );
      computeMatchedSection(container, ranked, checkpoints, params.get("matched"), (id) => {
        setQuery({ matched: id });
        draw();
      });
    }
  };
  draw();
});
