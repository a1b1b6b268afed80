// One run: accuracy against r (95% CI), against mean FLOPs per sample (log x, with the
// non-recurrent baseline when one is linked), mean generated tokens against r, the aggregate table
// (with how many prompts were cut to the model's window), provenance, downloads, and live progress
// polled while the run is going.
import type { RunDetail } from "../../../worker/protocol.ts";
import { api } from "../api.ts";
import {
  accuracyVsFlops,
  accuracyVsRecurrence,
  type SeriesPoint,
  tokensVsRecurrence,
} from "../charts.ts";
import { add, h, headerRow, query, runLink, samplesLink, showMessage } from "../dom.ts";
import { count, flops, percent, shortHash } from "../format.ts";
import { page } from "../layout.ts";
import {
  type Baseline,
  checkpointDetails,
  findBaseline,
  mixedComputeRecurrences,
  precisionSummary,
} from "../model.ts";
import { type PrecisionCostTable, precisionCostTables } from "../precision-cost.ts";
import { svgDownloadLink } from "../svg-download.ts";

const POLL_MS = 2000;
const AGGREGATE_COLUMNS = [
  "r",
  "n",
  "accuracy",
  "95% Wilson CI",
  "mean FLOPs",
  "gen. tokens",
  "prompt tokens",
  "truncated prompts",
];

page(`run ${query().get("id") ?? ""}`.trim(), async function renderRun(container) {
  const id = query().get("id");
  if (!id) {
    showMessage(container, "No run given", "Open a run from the leaderboard, or add ?id=<run id>.");
    return;
  }
  const [run, board, checkpoints, precisionCost] = await Promise.all([
    api.run(id),
    api.leaderboard(),
    api.checkpoints(),
    // An optional section: the page stands without it.
    api.precisionCost(id).catch(() => null),
  ]);
  const precisionTables = precisionCost ? precisionCostTables(precisionCost) : [];
  const checkpoint = checkpoints.find((c) => c.id === run.checkpoint_id);
  const baselineFor = (task: string) =>
    findBaseline(run.checkpoint_id, task, board, checkpoints, query().get("baseline"));
  document.title = `${run.checkpoint_name} · evals run`;

  const draw = (detail: RunDetail) => {
    // The run's own config names its precision even before it is published (no public card yet).
    const dtype = detail.config.dtype ?? checkpoint?.dtype ?? "fp32";
    const precision = precisionSummary(
      dtype,
      checkpoint?.fidelity?.per_recurrence ?? null,
      checkpoint?.f16_fidelity,
    );
    const header = h(
      "section",
      { className: "run-header" },
      h(
        "h1",
        {},
        detail.checkpoint_name,
        " ",
        h(
          "span",
          { className: `badge state-${detail.state}`, "data-state": detail.state },
          detail.state,
        ),
        " ",
        detail.published
          ? h(
              "span",
              { className: detail.verified ? "badge verified" : "badge community" },
              detail.verified ? "verified" : "community",
            )
          : h("span", { className: "badge unpublished" }, "unpublished"),
        dtype === "fp32" ? null : " ",
        dtype === "fp32" ? null : h("span", { className: "badge lossy", title: precision }, dtype),
      ),
      h(
        "dl",
        { className: "facts" },
        fact("run", h("code", {}, detail.id)),
        fact(
          "checkpoint",
          h("code", { title: detail.checkpoint_id }, shortHash(detail.checkpoint_id)),
        ),
        ...checkpointDetails(checkpoint).map(([name, value]) => fact(name, value)),
        fact("precision", precision),
        fact(
          "r",
          checkpoint && !checkpoint.recurrent
            ? `${detail.config.recurrences.join(", ")} (non-recurrent: no block, r has no effect)`
            : detail.config.recurrences.join(", "),
        ),
        fact(
          "documents",
          detail.tasks
            .map((t) => `${t.task}: ${count(t.doc_count)} (${t.num_fewshot}-shot)`)
            .join("; "),
        ),
        fact(
          "generation",
          `kv ${detail.config.kv ?? "full"}, s₀ ${detail.config.state_init ?? "zeros"}, seed ${detail.config.seed ?? 0}${detail.config.max_gen_toks ? `, ≤${detail.config.max_gen_toks} tokens` : ""}`,
        ),
        detail.reused_samples ? fact("reused samples", count(detail.reused_samples)) : null,
        ...provenanceFacts(detail),
      ),
      h(
        "p",
        { className: "links" },
        h("a", { href: samplesLink(detail.id) }, "Samples"),
        " · ",
        h("a", { href: `/compare?a=${encodeURIComponent(detail.id)}` }, "Compare with another run"),
      ),
      downloads(detail),
    );
    const sections: HTMLElement[] = [header];
    const unfinished = detail.progress.some((p) => p.samples_done < p.samples_total);
    if (detail.state === "active" || unfinished) sections.push(progressSection(detail));
    if (precisionTables.length) sections.push(precisionCostSection(precisionTables));
    container.replaceChildren(...sections);
    for (const task of detail.tasks) {
      const section = h("section", { className: "task", "data-task": task.task });
      add(container, section);
      drawTask(section, detail, task.task, baselineFor(task.task));
    }
    if (detail.failures.length) add(container, failuresSection(detail));
  };

  draw(run);
  if (run.state === "active") {
    let current = run;
    const timer = setInterval(async () => {
      try {
        current = await api.run(id);
        draw(current);
        if (current.state !== "active") clearInterval(timer);
      } catch {
        // A missed poll is retried on the next tick; the page keeps the last state it had.
      }
    }, POLL_MS);
  }
});

/** Accuracy at fp32 and at the lossy precision on the same documents (precision-cost.ts). */
function precisionCostSection(tables: PrecisionCostTable[]): HTMLElement {
  const numeric = (label: string) => label !== "task";
  return h(
    "section",
    { className: "precision-cost" },
    h("h2", {}, "Precision cost"),
    tables.map((table) =>
      h(
        "div",
        { className: "table-wrap" },
        h(
          "table",
          {},
          h("caption", {}, table.caption, " ", h("a", { href: runLink(table.runId) }, table.runId)),
          h("thead", {}, headerRow(table.header, table.header.filter(numeric))),
          h(
            "tbody",
            {},
            table.rows.map((cells) =>
              h(
                "tr",
                {},
                cells.map((cell, i) =>
                  h("td", { className: numeric(table.header[i]) ? "num" : "" }, cell),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

function fact(term: string, value: Node | string): HTMLElement {
  return h("div", {}, h("dt", {}, term), h("dd", {}, value));
}

/** "2 min 30 s" from two ISO times. */
function duration(from: string, to: string): string {
  const s = Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

const when = (iso: string) => iso.replace("T", " ").replace(/\.\d+Z$/, " UTC");

/** Where the numbers came from: times, what ran the samples, which data the prompts were built from. */
function provenanceFacts(detail: RunDetail): HTMLElement[] {
  const made = detail.provenance;
  const facts = [
    fact("created", h("time", { datetime: detail.created_at }, when(detail.created_at))),
    fact(
      "finished",
      detail.finished_at
        ? h(
            "span",
            {},
            h("time", { datetime: detail.finished_at }, when(detail.finished_at)),
            ` (${duration(detail.created_at, detail.finished_at)})`,
          )
        : "not yet",
    ),
  ];
  if (made) {
    facts.push(
      fact("backends", made.backends.join(", ") || "—"),
      fact("devices", made.devices.join(", ") || "not reported"),
      fact("runner versions", made.runner_versions.join(", ") || "—"),
      fact(
        "harness",
        made.git_hash ? `${made.harness_version} (${made.git_hash})` : made.harness_version,
      ),
    );
  }
  facts.push(
    fact(
      "dataset files",
      h(
        "ul",
        { className: "hashes" },
        detail.tasks.flatMap((t) =>
          Object.entries(t.dataset_files).map(([file, hash]) =>
            h(
              "li",
              { "data-dataset-file": file },
              `${t.task}: ${file} `,
              h("code", { title: hash }, shortHash(hash)),
              t.canonical_data ? "" : " (not the canonical version)",
            ),
          ),
        ),
      ),
    ),
  );
  return facts;
}

/** Samples as JSONL/CSV, and lm-eval's results file and --log_samples lines per r. */
function downloads(detail: RunDetail): HTMLElement {
  const rs = [...detail.config.recurrences].sort((a, b) => a - b);
  const perR = (label: string, url: (r: number) => string) =>
    h(
      "li",
      {},
      `${label}: `,
      rs.flatMap((r, i) => [
        i ? " · " : "",
        h("a", { href: url(r), download: "", "data-download": `${label} r=${r}` }, `r = ${r}`),
      ]),
    );
  return h(
    "section",
    { className: "downloads", "aria-label": "Downloads" },
    h("h2", { className: "small-heading" }, "Downloads"),
    h(
      "ul",
      {},
      h(
        "li",
        {},
        "Samples: ",
        h("a", { href: api.samplesDownloadUrl(detail.id, "jsonl"), download: "" }, "JSONL"),
        " · ",
        h("a", { href: api.samplesDownloadUrl(detail.id, "csv"), download: "" }, "CSV"),
      ),
      perR("lm-eval results", (r) => api.exportUrl(detail.id, r)),
      detail.tasks.map((t) =>
        perR(`lm-eval samples ${t.task}`, (r) => api.lmEvalSamplesUrl(detail.id, t.task, r)),
      ),
    ),
    h(
      "p",
      { className: "muted small" },
      "lm-eval results hold one model configuration, so each r is its own file (mean_recurrence in model_args).",
    ),
  );
}

function progressSection(detail: RunDetail): HTMLElement {
  const done = detail.progress.reduce((s, p) => s + p.samples_done, 0);
  const total = detail.progress.reduce((s, p) => s + p.samples_total, 0);
  return h(
    "section",
    { className: "progress", "aria-live": "polite" },
    h(
      "h2",
      {},
      "Progress ",
      h(
        "span",
        { className: "muted", "data-progress-total": `${done}/${total}` },
        `${done} / ${total} samples`,
      ),
      detail.state === "active"
        ? h("span", { className: "muted small" }, " · updating live")
        : null,
    ),
    h(
      "div",
      { className: "table-wrap" },
      h(
        "table",
        {},
        h("thead", {}, headerRow(["task", "r", "samples", "", "shards"], ["r", "samples"])),
        h(
          "tbody",
          {},
          detail.progress.map((p) =>
            h(
              "tr",
              { "data-progress": `${p.task}@${p.recurrences}` },
              h("td", {}, p.task),
              h("td", { className: "num" }, String(p.recurrences)),
              h("td", { className: "num" }, `${p.samples_done} / ${p.samples_total}`),
              h("td", {}, h("progress", { max: p.samples_total || 1, value: p.samples_done }, "")),
              h(
                "td",
                { className: "small" },
                Object.entries(p.shards)
                  .filter(([, n]) => n > 0)
                  .map(([state, n]) => `${n} ${state}`)
                  .join(", "),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

function drawTask(
  section: HTMLElement,
  detail: RunDetail,
  task: string,
  baseline: Baseline | null,
): void {
  const aggregates = detail.aggregates
    .filter((a) => a.task === task)
    .sort((a, b) => a.recurrences - b.recurrences);
  const metric = aggregates[0]?.primary_metric;
  add(
    section,
    h("h2", {}, task, metric ? h("span", { className: "muted small" }, ` · ${metric}`) : null),
  );
  if (!aggregates.length || !metric) {
    add(section, h("p", { className: "muted" }, "No results yet."));
    return;
  }
  const points: SeriesPoint[] = aggregates.map((a) => ({
    series: detail.checkpoint_name,
    recurrences: a.recurrences,
    accuracy: a.metrics[metric]?.accuracy ?? 0,
    ci95: a.metrics[metric]?.ci95 ?? [0, 0],
    meanFlops: a.mean_flops,
    meanTokens: a.mean_generated_tokens,
    n: a.n,
  }));
  const plots = h("div", { className: "plots" });
  add(section, plots);
  add(
    plots,
    accuracyVsRecurrence(plots, points),
    accuracyVsFlops(
      plots,
      points,
      baseline
        ? [{ label: baseline.model, accuracy: baseline.accuracy, meanFlops: baseline.meanFlops }]
        : [],
    ),
    tokensVsRecurrence(plots, points),
  );
  for (const figure of plots.querySelectorAll("figure[data-plot]")) {
    const name = `${detail.id}-${task}-${figure.getAttribute("data-plot")}`;
    const caption = figure.querySelector("figcaption");
    // One labelled image per plot: the marks' own aria-labels on plain <g> are not allowed ARIA.
    for (const svg of figure.querySelectorAll("svg")) {
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", caption?.textContent ?? "plot");
      for (const labelled of svg.querySelectorAll("[aria-label]")) {
        labelled.removeAttribute("aria-label");
      }
    }
    if (caption) add(caption, " ", svgDownloadLink(figure, name));
  }
  const mixed = mixedComputeRecurrences(aggregates);
  if (mixed.length) {
    add(
      section,
      h(
        "p",
        { className: "warning", role: "note", "data-mixed-compute": mixed.join(",") },
        h("span", { "aria-hidden": "true" }, "⚠ "),
        `At r = ${mixed.join(", ")}, some documents were computed by the fp16-compute graphs (WebGPU runners with shader-f16) and others in fp32: those accuracies average two precisions. The backends column says which.`,
      ),
    );
  }
  const truncated = aggregates.reduce((sum, a) => sum + (a.truncated ?? 0), 0);
  if (truncated > 0) {
    const samples = aggregates.reduce((sum, a) => sum + a.n, 0);
    add(
      section,
      h(
        "p",
        { className: "warning", role: "note", "data-truncated": truncated },
        h("span", { "aria-hidden": "true" }, "⚠ "),
        `${count(truncated)} of ${count(samples)} prompts were longer than the model's window and were cut: the model saw only their last tokens (left truncation, as lm-eval does). `,
        h(
          "a",
          { href: `${samplesLink(detail.id, task)}&truncated=1` },
          "See the truncated samples",
        ),
        ".",
      ),
    );
  }
  if (baseline) {
    add(
      section,
      h(
        "p",
        { className: "muted small baseline-note" },
        "Baseline: ",
        h("a", { href: `/run?id=${encodeURIComponent(baseline.runId)}` }, baseline.model),
        ` (non-recurrent) ${percent(baseline.accuracy)} at ${flops(baseline.meanFlops)} per sample.`,
      ),
    );
  }
  const otherMetrics = Object.keys(aggregates[0].metrics).filter((m) => m !== metric);
  add(
    section,
    h(
      "div",
      { className: "table-wrap" },
      h(
        "table",
        { className: "aggregates" },
        h(
          "thead",
          {},
          headerRow(
            [...AGGREGATE_COLUMNS, ...otherMetrics, "backends"],
            [...AGGREGATE_COLUMNS, ...otherMetrics],
          ),
        ),
        h(
          "tbody",
          {},
          aggregates.map((a) => {
            const m = a.metrics[metric];
            return h(
              "tr",
              { "data-r": a.recurrences },
              h(
                "td",
                { className: "num" },
                h(
                  "a",
                  { href: `${samplesLink(detail.id, task)}&r=${a.recurrences}` },
                  String(a.recurrences),
                ),
              ),
              h("td", { className: "num" }, count(a.n)),
              h("td", { className: "num" }, percent(m?.accuracy)),
              h(
                "td",
                { className: "num" },
                m ? `${percent(Math.max(0, m.ci95[0]))} – ${percent(Math.min(1, m.ci95[1]))}` : "—",
              ),
              h("td", { className: "num" }, flops(a.mean_flops)),
              h("td", { className: "num" }, a.mean_generated_tokens.toFixed(1)),
              h("td", { className: "num" }, a.mean_prompt_tokens.toFixed(0)),
              h(
                "td",
                {
                  className: a.truncated ? "num warn" : "num",
                  "data-truncated": a.truncated ?? "",
                },
                a.truncated === undefined
                  ? "—"
                  : `${a.truncated ? "⚠ " : ""}${count(a.truncated)} / ${count(a.n)}`,
              ),
              otherMetrics.map((name) => {
                const value = a.metrics[name]?.accuracy;
                // lambada's perplexity is a number (lower is better), not a proportion.
                const text = name === "perplexity" ? (value?.toFixed(2) ?? "—") : percent(value);
                return h("td", { className: "num" }, text);
              }),
              h("td", {}, a.backends.join(", ")),
            );
          }),
        ),
      ),
    ),
  );
}

function failuresSection(detail: RunDetail): HTMLElement {
  return h(
    "section",
    { className: "failures" },
    h("h2", {}, `Shard failures (${detail.failures.length})`),
    h(
      "ul",
      {},
      detail.failures.map((f) =>
        h(
          "li",
          {},
          `${f.task} r=${f.recurrences} docs ${f.doc_start}–${f.doc_end - 1} (${f.state}): `,
          f.reasons.map((r) => r.reason).join("; "),
        ),
      ),
    ),
  );
}
