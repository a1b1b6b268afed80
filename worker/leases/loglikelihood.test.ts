// Loglikelihood tasks through the API in real workerd: the server plans shards from registered
// rows, leases each document's (context, continuation) requests as lm-eval builds them, and scores
// the log-probabilities runners post (acc, acc_norm by character length, perplexity, mmlu's group).
import { describe, expect, it } from "vitest";
import { MMLU_SUBJECTS } from "../../evals/tasks/loglikelihood/mmlu-subjects.ts";
import { flopsPerToken } from "../../model/flops.ts";
import type { Lease, ResultIn, RunDetail } from "../protocol.ts";
import { call, expectJson, uploadBlob } from "../testing/api.ts";
import { type BindingCall, countedCall } from "../testing/binding-calls.ts";
import { checkpointFixture } from "../testing/checkpoint-fixture.ts";
import {
  CAPABILITIES,
  createRun,
  lease,
  postResults,
  setupWorld,
  type World,
} from "../testing/world.ts";

/**
 * D1 queries one Worker invocation may make on the Workers Free plan (1,000 on Paid), per
 * https://developers.cloudflare.com/d1/platform/limits/ ("Queries per Worker invocation"); the
 * Workers subrequest limit (50 Free) counts R2 and other binding calls alongside.
 */
const FREE_PLAN_CALLS = 50;

const jsonl = (rows: unknown[]) => `${rows.map((row) => JSON.stringify(row)).join("\n")}\n`;

// Rows in the Hugging Face layouts lm-eval reads (ai2_arc, winogrande, lambada_openai, cais/mmlu).
const ARC = [
  {
    id: "q1",
    question: "Which is hot?",
    choices: { text: ["ice", "the sun", "snow"], label: ["A", "B", "C"] },
    answerKey: "B",
  },
  {
    id: "q2",
    question: "What is wet?",
    choices: { text: ["water", "sand"], label: ["1", "2"] },
    answerKey: "1",
  },
];
const WINOGRANDE = [
  { sentence: "The cup is on the _ today.", option1: "table", option2: "floor", answer: "2" },
];
const LAMBADA = [{ text: "the cat sat on the mat" }, { text: "a dog ran to the park" }];
const SUBJECTS = ["abstract_algebra", "anatomy", "astronomy", "world_religions"];

async function registerDataset(token: string, name: string, files: Record<string, string>) {
  const hashes: Record<string, string> = {};
  for (const [file, text] of Object.entries(files)) hashes[file] = await uploadBlob(token, text);
  await expectJson(201, "POST", "/api/datasets", { token, json: { name, files: hashes } });
}

async function generalWorld(subjects: readonly string[]): Promise<World> {
  const world = await setupWorld();
  await registerDataset(world.submit, "arc_easy", { "test.jsonl": jsonl(ARC) });
  await registerDataset(world.submit, "winogrande", { "validation.jsonl": jsonl(WINOGRANDE) });
  await registerDataset(world.submit, "lambada_openai", { "test.jsonl": jsonl(LAMBADA) });
  const mmlu = subjects.map((subject) => ({
    question: `About ${subject}? `,
    subject,
    choices: ["one", "two", "three", "four"],
    answer: 2,
  }));
  await registerDataset(world.submit, "mmlu", { "test.jsonl": jsonl(mmlu) });
  return world;
}

/**
 * The runner's numbers for one request. arc_easy q1: lls −2, −3, −9 pick "ice" by sum (acc 0) but
 * "the sun" per character (−3/7 > −2/3 > −9/4; acc_norm 1, gold B). q2: −1, −0.5 pick "sand" by
 * sum (acc 0), "sand" per character too (−0.5/4 > −1/5; acc_norm 0). mmlu: C wins (gold 2).
 */
function logprobOf(docId: string, index: number): number {
  if (docId === "arc_easy/0") return [-2, -3, -9][index];
  if (docId === "arc_easy/1") return [-1, -0.5][index];
  if (docId.startsWith("mmlu_")) return index === 2 ? -0.5 : -4;
  if (docId === "winogrande/0") return [-3, -1][index];
  return docId === "lambada_openai/0" ? -1.5 : -2.5;
}

function loglikelihoodResults(held: Lease): ResultIn[] {
  return held.prompts.map((prompt) => {
    const entries = prompt.requests!.map((_, i) => ({
      logprob: logprobOf(prompt.doc_id, i),
      is_greedy: prompt.doc_id === "lambada_openai/0",
      input_tokens: 6 + i,
      tokens: 1,
    }));
    return {
      doc_id: prompt.doc_id,
      recurrences: held.shard.recurrences,
      completion: "",
      prompt_tokens: entries.reduce((n, e) => n + e.input_tokens, 0),
      generated_tokens: 0,
      backend: "wasm",
      device: "test device",
      runner_version: "test-runner/1",
      timings: { ms: 3 },
      loglikelihoods: entries,
    };
  });
}

describe("loglikelihood tasks through the API", () => {
  it("plans, leases lm-eval's requests, scores posted log-probabilities and exports lm-eval keys", async () => {
    const world = await generalWorld(SUBJECTS);
    const listed = await expectJson(200, "GET", "/api/tasks");
    expect(listed.tasks.find((t: { name: string }) => t.name === "arc_easy")).toMatchObject({
      kind: "loglikelihood",
      dataset: "arc_easy",
      dataset_files: ["test.jsonl"],
      fewshot_files: ["train.jsonl"],
      metrics: ["acc_norm", "acc"],
      max_gen_toks: 0,
    });
    expect(listed.groups.mmlu).toHaveLength(57);

    const run = await createRun(world, {
      tasks: ["arc_easy", "winogrande", "lambada_openai", ...SUBJECTS.map((s) => `mmlu_${s}`)],
      recurrences: [1, 4],
      limit: 2,
      shard_size: 2,
    });
    expect(run.tasks.map((t) => [t.task, t.kind, t.doc_count])).toEqual([
      ["arc_easy", "loglikelihood", 2],
      ["winogrande", "loglikelihood", 1],
      ["lambada_openai", "loglikelihood", 2],
      ...SUBJECTS.map((s) => [`mmlu_${s}`, "loglikelihood", 1]),
    ]);
    expect(run.tasks[2]).toMatchObject({ metrics: ["acc", "perplexity"], primary_metric: "acc" });
    const totals = Object.fromEntries(
      run.progress.map((p) => [`${p.task}@${p.recurrences}`, p.samples_total]),
    );
    expect(totals).toMatchObject({ "arc_easy@1": 2, "arc_easy@4": 2, "winogrande@4": 1 });
    expect(run.progress).toHaveLength(2 * run.tasks.length);

    const seen = new Map<string, Lease["prompts"][number]>();
    for (let held = await lease(world.runner); held; held = await lease(world.runner)) {
      expect(held.kind).toBe("loglikelihood");
      expect(held.generation).toMatchObject({ add_bos: true, max_new_tokens: 0, until: [] });
      for (const prompt of held.prompts) {
        seen.set(prompt.doc_id, prompt);
        // The prompt the result key hashes is the requests' JSON.
        expect(JSON.parse(prompt.prompt)).toEqual(prompt.requests);
      }
      const res = await postResults(world.runner, held.lease_id, loglikelihoodResults(held));
      expect(res.status, await res.clone().text()).toBe(200);
    }
    // lm-eval's requests (context, target_delimiter + choice); winogrande: one context per option
    // up to the blank, the text after it as the shared continuation; lambada: no delimiter.
    expect(seen.get("arc_easy/0")?.requests).toEqual(
      ["ice", "the sun", "snow"].map((c) => ({
        context: "Question: Which is hot?\nAnswer:",
        continuation: ` ${c}`,
      })),
    );
    expect(seen.get("winogrande/0")?.requests).toEqual([
      { context: "The cup is on the table", continuation: " today." },
      { context: "The cup is on the floor", continuation: " today." },
    ]);
    expect(seen.get("lambada_openai/0")?.requests).toEqual([
      { context: "the cat sat on the", continuation: " mat" },
    ]);
    expect(seen.get("mmlu_anatomy/0")?.requests?.[0]).toEqual({
      context:
        "The following are multiple choice questions (with answers) about anatomy.\n\nAbout anatomy?\nA. one\nB. two\nC. three\nD. four\nAnswer:",
      continuation: " A",
    });

    const detail = await expectJson<RunDetail>(200, "GET", `/api/runs/${run.id}`, {
      token: world.submit,
    });
    expect(detail.state).toBe("finished");
    const page = await expectJson(200, "GET", `/api/runs/${run.id}/samples?limit=500`, {
      token: world.submit,
    });
    const sample = (docId: string, r: number) =>
      page.samples.find(
        (s: { doc_id: string; recurrences: number }) => s.doc_id === docId && s.recurrences === r,
      );
    expect(sample("arc_easy/0", 4)).toMatchObject({
      metrics: { acc: 0, acc_norm: 1 },
      completion: "ice",
      extracted: { choice: "0", choice_norm: "1" },
      prompt_tokens: 6 + 7 + 8,
      generated_tokens: 0,
      loglikelihoods: [
        { logprob: -2, is_greedy: false, tokens: 1 },
        { logprob: -3, is_greedy: false, tokens: 1 },
        { logprob: -9, is_greedy: false, tokens: 1 },
      ],
    });
    expect(sample("arc_easy/1", 1).metrics).toEqual({ acc: 0, acc_norm: 0 });
    expect(sample("winogrande/0", 1).metrics).toEqual({ acc: 1 });
    expect(sample("lambada_openai/0", 1).metrics).toEqual({ acc: 1, perplexity: -1.5 });
    expect(sample("lambada_openai/1", 1).metrics).toEqual({ acc: 0, perplexity: -2.5 });

    // FLOPs: prompt-only, each request's input tokens at context lengths 1..n (DESIGN §6).
    const { manifest } = await checkpointFixture();
    let flops = 0;
    for (const n of [6, 7, 8]) for (let t = 1; t <= n; t++) flops += flopsPerToken(manifest, 4, t);
    expect(sample("arc_easy/0", 4).flops).toBeCloseTo(flops, -2);

    const at = (task: string, r: number) =>
      detail.aggregates.find((a) => a.task === task && a.recurrences === r)!;
    expect(at("arc_easy", 1)).toMatchObject({ n: 2, primary_metric: "acc_norm" });
    expect(at("arc_easy", 1).metrics.acc_norm.accuracy).toBe(0.5);
    expect(at("lambada_openai", 4).metrics.perplexity.accuracy).toBeCloseTo(Math.exp(2), 12);
    expect(at("mmlu", 1)).toMatchObject({ n: SUBJECTS.length, primary_metric: "acc" });
    expect(at("mmlu", 1).metrics.acc.accuracy).toBe(1);

    const exported = await expectJson(200, "GET", `/api/runs/${run.id}/export?r=1`, {
      token: world.submit,
    });
    expect(exported.results.arc_easy).toMatchObject({
      "acc,none": 0,
      "acc_norm,none": 0.5,
      "acc_norm_stderr,none": 0.5,
    });
    expect(exported.results.lambada_openai["perplexity,none"]).toBeCloseTo(Math.exp(2), 12);
    expect(exported.groups.mmlu["acc,none"]).toBe(1);
    expect(exported.configs.arc_easy).toMatchObject({ output_type: "multiple_choice" });

    // --log_samples lines as lm-eval writes a multiple-choice document: one argument pair and one
    // [logprob, is_greedy] response per choice.
    const res = await call("GET", `/api/runs/${run.id}/export/samples?task=arc_easy&r=1`, {
      token: world.submit,
    });
    expect(res.status).toBe(200);
    const [line] = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(line.doc_id).toBe(0);
    expect(Object.keys(line.arguments)).toEqual(["gen_args_0", "gen_args_1", "gen_args_2"]);
    expect(line.arguments.gen_args_0.arg_0).toBe(seen.get("arc_easy/0")?.requests?.[0]?.context);
    expect(line.resps).toEqual([[[-2, false]], [[-3, false]], [[-9, false]]]);
    expect(line.filtered_resps).toEqual([
      [-2, false],
      [-3, false],
      [-9, false],
    ]);
    expect(line).toMatchObject({ filter: "none", acc: 0 });

    // The samples CSV names each task's primary metric and scores the document by it: arc_easy
    // doc 0 is wrong by acc but right by acc_norm, lambada's is right by acc.
    const csv = await call("GET", `/api/runs/${run.id}/samples/download?format=csv`, {
      token: world.submit,
    });
    expect(csv.status).toBe(200);
    // The first six columns hold no comma here, so a plain split reads them.
    const [head, ...rows] = (await csv.text())
      .trimEnd()
      .split("\n")
      .map((l) => l.split(",").slice(0, 6));
    expect(head).toEqual(["task", "r", "doc_index", "doc_id", "correct", "primary_metric"]);
    const byDoc = (docId: string, r: number) =>
      rows.find((row) => row[3] === docId && row[1] === String(r))?.slice(4);
    expect(byDoc("arc_easy/0", 4)).toEqual(["1", "acc_norm"]);
    expect(byDoc("arc_easy/1", 1)).toEqual(["0", "acc_norm"]);
    expect(byDoc("lambada_openai/0", 1)).toEqual(["1", "acc"]);
    expect(byDoc("mmlu_anatomy/0", 4)).toEqual(["1", "acc"]);
  });

  // Binding calls measured (console lines below): creating the run 120 when each subject looked
  // up its dataset and reusable samples itself, 8 with one lookup of each for the whole run;
  // leasing a shard 3; posting its results 1 (the lease and the run context are cached); the
  // lm-eval export 174 with a read and a batch per subject, 6 with one of each.
  it("expands the mmlu group into its 57 subjects within the Free plan's 50 binding calls", async () => {
    const world = await generalWorld(Object.keys(MMLU_SUBJECTS));
    const creating: BindingCall[] = [];
    const created = await countedCall(creating, "POST", "/api/runs", world.submit, {
      checkpoint: world.checkpoint,
      tasks: ["mmlu"],
      recurrences: [1, 4],
      shard_size: 4,
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const run = (await created.json()) as RunDetail;
    expect(run.tasks).toHaveLength(57);
    expect(new Set(run.tasks.map((t) => t.kind))).toEqual(new Set(["loglikelihood"]));
    expect(run.config.tasks).toEqual(["mmlu"]);
    console.log(`binding calls: creating a 57-subject mmlu run ${creating.length}`);
    expect(creating.length, creating.join("\n")).toBeLessThanOrEqual(FREE_PLAN_CALLS);

    const leasing: BindingCall[] = [];
    const leased = await countedCall(leasing, "POST", "/api/leases", world.runner, CAPABILITIES);
    const held = (await leased.json()) as Lease;
    const posting: BindingCall[] = [];
    const posted = await countedCall(
      posting,
      "POST",
      `/api/leases/${held.lease_id}/results`,
      world.runner,
      { results: loglikelihoodResults(held) },
    );
    expect(posted.status).toBe(200);
    console.log(`binding calls: leasing ${leasing.length}, posting results ${posting.length}`);
    expect(leasing.length, leasing.join("\n")).toBeLessThanOrEqual(FREE_PLAN_CALLS);
    expect(posting.length, posting.join("\n")).toBeLessThanOrEqual(FREE_PLAN_CALLS);

    const exporting: BindingCall[] = [];
    const exported = await countedCall(
      exporting,
      "GET",
      `/api/runs/${run.id}/export?r=1`,
      world.submit,
    );
    expect(exported.status).toBe(200);
    expect(
      Object.keys(((await exported.json()) as { task_hashes: object }).task_hashes),
    ).toHaveLength(57);
    console.log(`binding calls: lm-eval export ${exporting.length}`);
    expect(exporting.length, exporting.join("\n")).toBeLessThanOrEqual(FREE_PLAN_CALLS);

    // A second, identical run reuses every sample the first stored, through the same one query.
    const again: BindingCall[] = [];
    const reusedRun = await countedCall(again, "POST", "/api/runs", world.submit, {
      checkpoint: world.checkpoint,
      tasks: ["mmlu"],
      recurrences: [1, 4],
      shard_size: 4,
    });
    expect(((await reusedRun.json()) as RunDetail).reused_samples).toBe(held.prompts.length);
    expect(again.length, again.join("\n")).toBeLessThanOrEqual(FREE_PLAN_CALLS);
  });

  it("refuses bad posts with the field and the fix, and stores nothing from them", async () => {
    const world = await generalWorld(SUBJECTS);
    await createRun(world, { tasks: ["arc_easy"], recurrences: [1], limit: 1 });
    const held = (await lease(world.runner))!;
    const [good] = loglikelihoodResults(held);
    const refused = async (result: unknown, pattern: RegExp) => {
      const res = await call("POST", `/api/leases/${held.lease_id}/results`, {
        token: world.runner,
        json: { results: [result] },
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toMatch(pattern);
    };
    const entries = good.loglikelihoods!;
    await refused(
      { ...good, loglikelihoods: entries.slice(1), prompt_tokens: 15 },
      /loglikelihoods: 2 entries for the 3 requests of arc_easy\/0/,
    );
    // JSON has no NaN: it arrives as null, which is not a number.
    await refused(
      { ...good, loglikelihoods: [{ ...entries[0], logprob: Number.NaN }, ...entries.slice(1)] },
      /loglikelihoods.*0.*logprob/,
    );
    await refused({ ...good, doc_id: "arc_easy/7" }, /"arc_easy\/7" is not in shard/);
    await refused({ ...good, loglikelihoods: undefined }, /is a loglikelihood task; post/);
    await refused(
      { ...good, prompt_tokens: 3 },
      /prompt_tokens: 3, but the requests' input_tokens sum to 21/,
    );
    await refused(
      { ...good, loglikelihoods: [{ ...entries[0], input_tokens: 9999 }, ...entries.slice(1)] },
      /loglikelihoods.0.input_tokens: 9999 is impossible/,
    );
    const page = await expectJson(200, "GET", `/api/runs/${held.shard.run_id}/samples`, {
      token: world.submit,
    });
    expect(page.samples).toEqual([]);
    const ok = await postResults(world.runner, held.lease_id, [good]);
    expect(ok.status).toBe(200);
  });

  it("refuses a loglikelihood run with a random initial state, and an unknown task by name", async () => {
    const world = await generalWorld(SUBJECTS);
    const normal = await call("POST", "/api/runs", {
      token: world.submit,
      json: {
        checkpoint: world.checkpoint,
        tasks: ["arc_easy"],
        recurrences: [1],
        state_init: "normal",
      },
    });
    expect(normal.status).toBe(400);
    expect(((await normal.json()) as { detail: string }).detail).toMatch(
      /state_init: arc_easy .* "zeros"/,
    );
    const unknown = await call("POST", "/api/runs", {
      token: world.submit,
      json: { checkpoint: world.checkpoint, tasks: ["arc_easy", "hellaswag_x"], recurrences: [1] },
    });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { detail: string }).detail).toMatch(
      /tasks.1: unknown task "hellaswag_x"/,
    );
  });
});
