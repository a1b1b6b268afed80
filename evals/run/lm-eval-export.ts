// A run in lm-evaluation-harness's output layout, so tools that read lm-eval results read ours:
// the results file (`results`, `groups`, `group_subtasks`, `configs`, `versions`, `n-shot`,
// `higher_is_better`, `n-samples`, `config`, `git_hash`, `date`, `task_hashes`, the tracker's
// model name and timings) and the `--log_samples` lines (`samples_<task>_<date>.jsonl`).
//
// lm-eval has no recurrence axis: one results file holds one model configuration, whose
// arguments are `config.model_args`. The retrofit paper ran lm-eval once per r with
// `mean_recurrence=<r>` in the model arguments, so a file here is one r: task names stay
// lm-eval's own and r is in `model_args` and each task's `metadata.mean_recurrence`.
// Both the API (worker/routes/runs.ts) and the CLI (`evals local`, `evals results <file>`) write
// through this one module.
import { EvalsError } from "../errors.ts";
import { getLoglikelihoodTask, TASK_GROUPS } from "../tasks/loglikelihood/registry.ts";
import type { LoglikelihoodTaskDefinition } from "../tasks/loglikelihood/types.ts";
import { getTask } from "../tasks/registry.ts";
import type { TaskDefinition } from "../tasks/types.ts";
import type { Aggregate, SampleRecord } from "./records.ts";

/** package.json's version: what wrote the file (lm-eval writes its own as `lm_eval_version`). */
export const EVALS_VERSION = "0.1.0";

/** The model class name lm-eval records as `config.model` / `model_source`. */
export const MODEL_SOURCE = "evals-recurrent";

export interface LmEvalRun {
  id: string;
  /** The checkpoint's display name: `pretrained=` in model_args, hence lm-eval's model_name. */
  modelName: string;
  checkpointId: string | null;
  config: {
    kv: string;
    state_init: string;
    seed: number;
    dtype?: string | null;
    limit: number | null;
    max_gen_toks: number | null;
  };
  createdAt: string;
  finishedAt: string | null;
  /** Commit of the evals checkout that wrote the file, when known. */
  gitHash: string | null;
  /** The model's context window (lm-eval's `max_length`), when known. */
  maxLength: number | null;
}

export interface LmEvalTask {
  /** evals' task name. */
  task: string;
  numFewshot: number;
  /** Documents in the dataset split (lm-eval's n-samples.original); null when unknown. */
  datasetSize: number | null;
  /** Generation tasks: the run's max_new_tokens. */
  maxGenToks?: number;
  /** File name → sha256 of the dataset files the prompts were built from. */
  datasetFiles?: Record<string, string>;
}

/** lm-eval's task name for an evals task (math500 is lm-eval's minerva_math500). */
export function lmEvalTaskName(task: string): string {
  return task === "math500" ? "minerva_math500" : task;
}

/** Where lm-eval's task YAMLs load each dataset from (dataset_path, dataset_name). */
const DATASETS: Record<string, [string, string | null]> = {
  gsm8k: ["gsm8k", "main"],
  math: ["EleutherAI/hendrycks_math", null],
  math500: ["HuggingFaceH4/MATH-500", null],
  arithmetic: ["evals/arithmetic_word_problems", null],
  lambada_openai: ["EleutherAI/lambada_openai", "default"],
  hellaswag: ["Rowan/hellaswag", null],
  arc_easy: ["allenai/ai2_arc", "ARC-Easy"],
  arc_challenge: ["allenai/ai2_arc", "ARC-Challenge"],
  openbookqa: ["openbookqa", "main"],
  piqa: ["baber/piqa", null],
  social_iqa: ["allenai/social_i_qa", null],
  winogrande: ["winogrande", "winogrande_xl"],
  mmlu: ["cais/mmlu", null],
};

/** Metric and filter of a metric key: "exact_match,strict-match" → ["exact_match", "strict-match"]. */
export function splitMetric(key: string): [string, string] {
  const [metric, filter = "none"] = key.split(",");
  return [metric, filter];
}

function higherIsBetter(metric: string): boolean {
  return metric !== "perplexity";
}

function taskDefinition(
  task: string,
): { kind: "generate"; def: TaskDefinition } | { kind: "ll"; def: LoglikelihoodTaskDefinition } {
  const general = getLoglikelihoodTask(task);
  if (general) return { kind: "ll", def: general };
  return { kind: "generate", def: getTask(task) };
}

/** One task's lm-eval `configs` entry. */
function taskConfig(
  info: LmEvalTask,
  metrics: readonly string[],
  r: number,
): Record<string, unknown> {
  const found = taskDefinition(info.task);
  const { def } = found;
  const [datasetPath, datasetName] = DATASETS[def.dataset.name] ?? [def.dataset.name, null];
  const subset = found.kind === "ll" ? found.def.dataset.subset?.value : undefined;
  const metricNames = [...new Set(metrics.map((m) => splitMetric(m)[0]))];
  const filters = [...new Set(metrics.map((m) => splitMetric(m)[1]))];
  const base = {
    task: lmEvalTaskName(info.task),
    dataset_path: datasetPath,
    dataset_name: subset ?? datasetName,
    test_split: def.dataset.split,
    description: def.description,
    target_delimiter: def.targetDelimiter,
    fewshot_delimiter: def.fewshotDelimiter,
    num_fewshot: info.numFewshot,
    metric_list: metricNames.map((metric) => ({
      metric,
      aggregation: metric === "perplexity" ? "perplexity" : "mean",
      higher_is_better: higherIsBetter(metric),
    })),
    repeats: 1,
    should_decontaminate: false,
  };
  const metadata = {
    version: def.version,
    mean_recurrence: r,
    ...(info.datasetFiles ? { dataset_files: info.datasetFiles } : {}),
  };
  if (found.kind === "ll") {
    return { ...base, output_type: found.def.outputType, metadata };
  }
  const task = found.def;
  return {
    ...base,
    doc_to_text: task.docToText,
    fewshot_config: task.fewshot
      ? task.fewshot.kind === "random"
        ? { sampler: "default", split: task.fewshot.split, seed: task.fewshot.seed }
        : { sampler: "first_n", file: task.fewshot.file }
      : null,
    output_type: "generate_until",
    generation_kwargs: {
      until: task.until,
      do_sample: false,
      temperature: 0,
      max_gen_toks: info.maxGenToks ?? task.maxGenToks,
    },
    // lm-eval's filters are regex pipelines; evals implements each in its scorer (versioned).
    filter_list: filters
      .filter((f) => f !== "none")
      .map((name) => ({ name, filter: [{ function: "evals", scorer: task.scorerVersion }] })),
    metadata,
  };
}

/** lm-eval's sanitize_model_name: characters unsafe in a path become "__". */
export function sanitizeModelName(name: string): string {
  return name.replace(/["<>:/|\\?*[\]]+/g, "__");
}

const seconds = (iso: string) => Date.parse(iso) / 1000;

/**
 * The results file of one r. `aggregates` may hold several r; only `r`'s are written.
 * `taskHashes` (lm-eval's: sha256 over the task's logged samples' doc, prompt and target hashes)
 * come from `lmEvalTaskHash` where the samples are at hand.
 */
export function lmEvalResults(
  run: LmEvalRun,
  tasks: readonly LmEvalTask[],
  aggregates: readonly Aggregate[],
  r: number,
  taskHashes: Record<string, string> = {},
) {
  const chosen = aggregates.filter((a) => a.recurrences === r);
  const info = new Map(tasks.map((t) => [t.task, t]));
  const results: Record<string, Record<string, string | number>> = {};
  const groups: Record<string, Record<string, string | number>> = {};
  const groupSubtasks: Record<string, string[]> = {};
  const configs: Record<string, unknown> = {};
  const versions: Record<string, number> = {};
  const nShot: Record<string, number> = {};
  const better: Record<string, Record<string, boolean>> = {};
  const nSamples: Record<string, { original: number; effective: number }> = {};
  const members = new Set(Object.values(TASK_GROUPS).flat());
  for (const a of chosen) {
    const name = lmEvalTaskName(a.task);
    const entry: Record<string, string | number> = { alias: name };
    for (const [key, value] of Object.entries(a.metrics)) {
      const [metric, filter] = splitMetric(key);
      entry[`${metric},${filter}`] = value.accuracy;
      entry[`${metric}_stderr,${filter}`] = value.stderr;
      better[name] = { ...better[name], [metric]: higherIsBetter(metric) };
    }
    results[name] = entry;
    if (a.task in TASK_GROUPS) {
      groups[name] = entry;
      groupSubtasks[name] = groupMembers(a, chosen).map(lmEvalTaskName);
      continue;
    }
    const task = info.get(a.task) ?? { task: a.task, numFewshot: 0, datasetSize: null };
    const config = taskConfig(task, Object.keys(a.metrics), r);
    configs[name] = config;
    versions[name] = (config.metadata as { version: number }).version;
    nShot[name] = task.numFewshot;
    nSamples[name] = { original: task.datasetSize ?? a.n, effective: a.n };
    if (!members.has(a.task)) groupSubtasks[name] = [];
  }
  const { config } = run;
  const modelArgs = [
    `pretrained=${run.modelName.replaceAll(",", " ")}`,
    ...(run.checkpointId ? [`checkpoint=${run.checkpointId}`] : []),
    `mean_recurrence=${r}`,
    `kv=${config.kv}`,
    `state_init=${config.state_init}`,
    ...(config.dtype ? [`dtype=${config.dtype}`] : []),
  ].join(",");
  const start = seconds(run.createdAt);
  const end = run.finishedAt ? seconds(run.finishedAt) : null;
  return {
    results,
    ...(Object.keys(groups).length ? { groups } : {}),
    group_subtasks: groupSubtasks,
    configs,
    versions,
    "n-shot": nShot,
    higher_is_better: better,
    "n-samples": nSamples,
    config: {
      model: MODEL_SOURCE,
      model_args: modelArgs,
      batch_size: 1,
      batch_sizes: [],
      device: null,
      use_cache: null,
      limit: config.limit,
      bootstrap_iters: 0,
      gen_kwargs: config.max_gen_toks ? `max_gen_toks=${config.max_gen_toks}` : null,
      random_seed: config.seed,
      numpy_seed: config.seed,
      torch_seed: config.seed,
      fewshot_seed: 1234,
    },
    git_hash: run.gitHash,
    date: start,
    max_length: run.maxLength,
    task_hashes: taskHashes,
    model_source: MODEL_SOURCE,
    model_name: run.modelName,
    model_name_sanitized: sanitizeModelName(run.modelName),
    system_instruction: null,
    system_instruction_sha: null,
    fewshot_as_multiturn: false,
    chat_template: null,
    chat_template_sha: null,
    start_time: start,
    end_time: end,
    total_evaluation_time_seconds: end === null ? null : String(end - start),
    evals_version: EVALS_VERSION,
    evals_run_id: run.id,
  };
}

/** The r values of `aggregates`, ascending. */
export function recurrencesOf(aggregates: readonly Aggregate[]): number[] {
  return [...new Set(aggregates.map((a) => a.recurrences))].sort((a, b) => a - b);
}

/** A group's direct members at this r: mmlu lists its four categories, a category its subjects. */
function groupMembers(group: Aggregate, all: readonly Aggregate[]): string[] {
  const present = new Set(
    all.filter((a) => a.recurrences === group.recurrences).map((a) => a.task),
  );
  const own = TASK_GROUPS[group.task];
  const categories = Object.keys(TASK_GROUPS).filter(
    (name) => name !== group.task && TASK_GROUPS[name].every((t) => own.includes(t)),
  );
  const direct = categories.filter((name) => present.has(name));
  if (direct.length > 0) return direct;
  return own.filter((t) => present.has(t));
}

// ── --log_samples ────────────────────────────────────────────────────────────

/** What a logged sample needs beyond its record: the document as the dataset has it. */
export interface LoggedDoc {
  doc_index: number;
  /** The dataset row; when the writer has only the gold, `{ <gold field>: gold }`. */
  doc: Record<string, unknown>;
  prompt: string;
  gold: string;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** lm-eval's doc_hash: sha256 of json.dumps(doc, indent=2, ensure_ascii=False). */
function pythonJsonIndent2(doc: unknown): string {
  return JSON.stringify(doc, null, 2);
}

/**
 * One line per (document, filter) as lm-eval's `--log_samples` writes them for one task at one r:
 * doc_id, doc, target, arguments ({gen_args_0: {arg_0: prompt, arg_1: gen kwargs}}), resps,
 * filtered_resps, filter, metrics, doc_hash, prompt_hash, target_hash and each metric's value.
 */
export async function lmEvalSampleLines(
  task: string,
  records: readonly SampleRecord[],
  docs: ReadonlyMap<number, LoggedDoc>,
  maxGenToks?: number,
): Promise<Record<string, unknown>[]> {
  const found = taskDefinition(task);
  const lines: Record<string, unknown>[] = [];
  const sorted = [...records].sort((a, b) => a.doc_index - b.doc_index);
  for (const record of sorted) {
    const doc = docs.get(record.doc_index);
    if (!doc) continue;
    const target = targetOf(found, doc);
    if (found.kind === "ll") {
      lines.push(...(await loglikelihoodLines(record, doc, target)));
      continue;
    }
    const args =
      found.kind === "generate"
        ? {
            gen_args_0: {
              arg_0: doc.prompt,
              arg_1: {
                until: found.def.until,
                do_sample: false,
                temperature: 0,
                max_gen_toks: maxGenToks ?? found.def.maxGenToks,
              },
            },
          }
        : { gen_args_0: { arg_0: doc.prompt } };
    const [docHash, promptHash, targetHash] = await Promise.all([
      sha256Hex(pythonJsonIndent2(doc.doc)),
      sha256Hex(doc.prompt),
      sha256Hex(target),
    ]);
    const byFilter = new Map<string, string[]>();
    for (const key of Object.keys(record.metrics)) {
      const [metric, filter] = splitMetric(key);
      byFilter.set(filter, [...(byFilter.get(filter) ?? []), metric]);
    }
    for (const [filter, metrics] of byFilter) {
      const line: Record<string, unknown> = {
        doc_id: record.doc_index,
        doc: doc.doc,
        target,
        arguments: args,
        resps: [[record.completion]],
        filtered_resps: [record.extracted[filter] ?? record.completion],
        filter,
        metrics,
        doc_hash: docHash,
        prompt_hash: promptHash,
        target_hash: targetHash,
      };
      for (const metric of metrics) {
        line[metric] = record.metrics[filter === "none" ? metric : `${metric},${filter}`];
      }
      lines.push(line);
    }
  }
  return lines;
}

/**
 * A loglikelihood document's line: lm-eval logs one argument pair per request
 * (`gen_args_<i>: {arg_0: context, arg_1: continuation}`), each request's response as
 * `[[logprob, is_greedy]]` and the filtered responses as `[logprob, is_greedy]` per request; the
 * prompt hash covers the first request's context, as lm-eval hashes `arguments[0][0]`.
 */
async function loglikelihoodLines(
  record: SampleRecord,
  doc: LoggedDoc,
  target: string,
): Promise<Record<string, unknown>[]> {
  const requests = JSON.parse(doc.prompt) as { context: string; continuation: string }[];
  const responses = (record.loglikelihoods ?? []).map((r) => [r.logprob, r.is_greedy]);
  const [docHash, promptHash, targetHash] = await Promise.all([
    sha256Hex(pythonJsonIndent2(doc.doc)),
    sha256Hex(requests[0]?.context ?? ""),
    sha256Hex(target),
  ]);
  const metrics = Object.keys(record.metrics).map((key) => splitMetric(key)[0]);
  const line: Record<string, unknown> = {
    doc_id: record.doc_index,
    doc: doc.doc,
    target,
    arguments: Object.fromEntries(
      requests.map((q, i) => [`gen_args_${i}`, { arg_0: q.context, arg_1: q.continuation }]),
    ),
    resps: responses.map((response) => [response]),
    filtered_resps: responses,
    filter: "none",
    metrics,
    doc_hash: docHash,
    prompt_hash: promptHash,
    target_hash: targetHash,
  };
  for (const [key, value] of Object.entries(record.metrics)) line[splitMetric(key)[0]] = value;
  return [line];
}

function targetOf(found: ReturnType<typeof taskDefinition>, doc: LoggedDoc): string {
  try {
    const target = found.def.docToTarget(doc.doc);
    return target === undefined || target === null ? doc.gold : String(target);
  } catch {
    return doc.gold;
  }
}

/** lm-eval's task hash: sha256 over the concatenated doc, prompt and target hashes of its lines. */
export function lmEvalTaskHash(lines: readonly Record<string, unknown>[]): Promise<string> {
  return sha256Hex(lines.map((l) => `${l.doc_hash}${l.prompt_hash}${l.target_hash}`).join(""));
}

/** lm-eval's file names: `results_<date>.json` and `samples_<task>_<date>.jsonl`. */
export function lmEvalFileDate(iso: string): string {
  return iso.replace(/Z$/, "").replaceAll(":", "-");
}

// ── a local results file ─────────────────────────────────────────────────────

export class LmEvalRecurrenceError extends EvalsError {
  constructor(readonly recurrences: number[]) {
    super(
      `lm-eval results hold one model configuration and this run has r = ${recurrences.join(", ")}; pick one (--r ${recurrences.at(-1)})`,
    );
    this.name = "LmEvalRecurrenceError";
  }
}

/** The r to export: the one asked for, else the run's only one; several and none asked: an error. */
export function exportRecurrence(aggregates: readonly Aggregate[], r?: number): number {
  const all = recurrencesOf(aggregates);
  if (r !== undefined) {
    if (!all.includes(r)) throw new LmEvalRecurrenceError(all);
    return r;
  }
  if (all.length !== 1) throw new LmEvalRecurrenceError(all);
  return all[0];
}

/** `evals local --format lm-eval` / `evals results <file> --format lm-eval`. */
export function lmEvalExport(
  run: {
    config: {
      checkpoint_name: string;
      limit: number | null;
      num_fewshot: number | null;
      kv: string;
      state_init: string;
      seed: number;
      dtype: string;
      max_gen_toks: number | null;
    };
    aggregates: readonly Aggregate[];
    created_at: string;
  },
  r?: number,
) {
  const chosen = exportRecurrence(run.aggregates, r);
  const { config } = run;
  const tasks = [...new Set(run.aggregates.map((a) => a.task))]
    .filter((name) => !(name in TASK_GROUPS))
    .map((name): LmEvalTask => {
      const found = taskDefinition(name);
      return {
        task: name,
        numFewshot: config.num_fewshot ?? found.def.defaultNumFewshot,
        datasetSize: null,
        ...(found.kind === "generate"
          ? { maxGenToks: Math.min(found.def.maxGenToks, config.max_gen_toks ?? Infinity) }
          : {}),
      };
    });
  return lmEvalResults(
    {
      id: "local",
      modelName: config.checkpoint_name,
      checkpointId: null,
      config,
      createdAt: run.created_at,
      finishedAt: null,
      gitHash: null,
      maxLength: null,
    },
    tasks,
    run.aggregates,
    chosen,
  );
}
