// The dashboard's pure parts: leaderboard sorting, baseline discovery, changed documents, pairing.
import { describe, expect, it } from "vitest";
import type { Leaderboard, RunDetail } from "../../worker/protocol.ts";
import type { PublicCheckpoint, RunOutcomes } from "../../worker/routes/public-reads.ts";
import { checkpointFacts } from "./format.ts";
import {
  accuracyAtFlops,
  changesWithR,
  checkpointCurves,
  checkpointDetails,
  comparableGroups,
  compareAtEqualFlops,
  defaultRecurrence,
  defaultTask,
  findBaseline,
  leaderboardRows,
  mixedComputeRecurrences,
  pairedDeltas,
  pointAt,
  precisionLabel,
  precisionSummary,
  sortRows,
  sourceLabel,
} from "./model.ts";

const point = (r: number, accuracy: number) => ({
  recurrences: r,
  n: 10,
  accuracy,
  stderr: 0.1,
  ci95: [accuracy - 0.2, accuracy + 0.2] as [number, number],
  mean_flops: 1e6 * r,
  effective_parameters: 100 * r,
});

const entry = (run: string, checkpoint: string, accs: [number, number][]) => {
  const best = accs.reduce((a, b) => (b[1] > a[1] ? b : a));
  return {
    run_id: run,
    checkpoint_id: checkpoint,
    checkpoint_name: `model-${run}`,
    primary_metric: "exact_match",
    best: { recurrences: best[0], accuracy: best[1], stderr: 0.1 },
    by_recurrence: accs.map(([r, a]) => point(r, a)),
    verified: run === "a",
    canonical_data: true,
  };
};

const board: Leaderboard = {
  tasks: [
    {
      task: "gsm8k",
      entries: [
        entry("a", "ck-a", [
          [1, 0.2],
          [4, 0.5],
        ]),
        entry("b", "ck-b", [[1, 0.3]]),
        entry("flat", "ck-flat", [[1, 0.1]]),
      ],
    },
  ],
};

const checkpoint = (id: string, source: string, recurrent: boolean): PublicCheckpoint => ({
  id,
  name: id,
  family: "llama",
  source: {
    kind: "path",
    repo: null,
    revision: null,
    path: source,
    preset: null,
    architecture: "x",
  },
  source_id: source,
  train_recurrence: recurrent ? 4 : null,
  layers: { prelude: 1, block: recurrent ? 2 : 0, coda: 1 },
  adapter: recurrent ? "random-s0" : null,
  recurrent,
  total_parameters: 1,
  dtype: "fp32",
  fidelity: null,
  f16_fidelity: null,
  provenance: {
    flavour: "llama",
    source: `${source} (local)`,
    adapter: recurrent ? "random seed=0" : "none",
    train_recurrence: recurrent ? 4 : null,
    config_default_recurrence: null,
  },
});
const checkpoints = [
  checkpoint("ck-a", "src-1", true),
  checkpoint("ck-b", "src-2", true),
  checkpoint("ck-flat", "src-1", false),
];

describe("dashboard model", () => {
  it("sorts rows by any column, rows without a value last", () => {
    const rows = leaderboardRows(board, checkpoints, "gsm8k");
    expect(sortRows(rows, "best", "desc").map((r) => r.runId)).toEqual(["a", "b", "flat"]);
    expect(sortRows(rows, "r4", "desc").map((r) => r.runId)).toEqual(["a", "b", "flat"]);
    expect(sortRows(rows, "r4", "asc").map((r) => r.runId)).toEqual(["a", "b", "flat"]);
    expect(sortRows(rows, "r1", "asc").map((r) => r.runId)).toEqual(["flat", "a", "b"]);
    expect(rows[0]).toMatchObject({ trainRecurrence: 4, best: { recurrences: 4 }, verified: true });
  });

  it("finds the non-recurrent baseline cut from the same source, or the linked one", () => {
    expect(findBaseline("ck-a", "gsm8k", board, checkpoints)?.runId).toBe("flat");
    expect(findBaseline("ck-b", "gsm8k", board, checkpoints)).toBeNull();
    expect(findBaseline("ck-b", "gsm8k", board, checkpoints, "flat")?.meanFlops).toBe(1e6);
  });

  it("pairs documents by hash and tests each shared r", () => {
    const outcomes = (correct: (0 | 1 | null)[][], hashes = ["h0", "h1", "h2", "h3"]) =>
      ({
        tasks: [
          {
            task: "gsm8k",
            primary_metric: "exact_match",
            recurrences: [1, 4],
            docs: correct.map((c, i) => ({
              doc_index: i,
              doc_id: `d${i}`,
              doc_hash: hashes[i],
              correct: c,
            })),
          },
        ],
      }) satisfies RunOutcomes;
    const a = outcomes([
      [1, 1],
      [0, 1],
      [0, 1],
      [0, null],
    ]);
    const b = outcomes(
      [
        [0, 1],
        [0, 0],
        [1, 1],
        [1, 1],
      ],
      ["h3", "h0", "h1", "h2"],
    );
    const [r1, r4] = pairedDeltas(a, b);
    // Pairs by hash: h0 (1,0) h1 (0,0) h2 (0,1) h3 (0,1) at r = 1.
    expect(r1).toMatchObject({ recurrences: 1, n: 4, onlyA: 1, onlyB: 2, delta: 0.25 });
    // h3 has no result in A at r = 4, so 3 pairs: h0 (1,0) h1 (1,1) h2 (1,1).
    expect(r4).toMatchObject({ recurrences: 4, n: 3, onlyA: 1, onlyB: 0, pValue: 1 });
    expect(r4.delta).toBeCloseTo(-1 / 3);
    expect(changesWithR(a.tasks[0].docs[1])).toBe(true);
    expect(changesWithR(a.tasks[0].docs[3])).toBe(false);
  });
});

describe("defaultTask", () => {
  it("is a real benchmark, never the arithmetic pipeline check", () => {
    expect(defaultTask(["arithmetic_word_problems", "gsm8k", "gsm8k_cot_sean"])).toBe(
      "gsm8k_cot_sean",
    );
    expect(defaultTask(["arithmetic_word_problems", "minerva_math"])).toBe("minerva_math");
    expect(defaultTask(["arc_easy", "arithmetic_word_problems", "gsm8k"])).toBe("gsm8k");
    expect(defaultTask(["arithmetic_word_problems", "arc_easy"])).toBe("arc_easy");
    expect(defaultTask(["arithmetic_word_problems"])).toBe("arithmetic_word_problems");
    expect(defaultTask([])).toBeUndefined();
  });
});

describe("checkpoint provenance on the pages", () => {
  // A Huginn checkpoint as the API describes it: the flavour is the manifest's, never `llama`.
  const huginn: PublicCheckpoint = {
    ...checkpoint("ck-huginn", "unused", true),
    family: "huginn",
    source: {
      kind: "hf",
      repo: "tomg-group-umd/huginn-0125",
      revision: "0123456789abcdef0123456789abcdef01234567",
      path: null,
      preset: null,
      architecture: "RavenForCausalLM",
    },
    layers: { prelude: 2, block: 4, coda: 2 },
    adapter: "trained",
    train_recurrence: null,
    provenance: {
      flavour: "huginn",
      source: "tomg-group-umd/huginn-0125@0123456789abcdef0123456789abcdef01234567",
      adapter: "trained",
      train_recurrence: null,
      config_default_recurrence: 32,
    },
  };

  it("shows flavour, split, adapter and source with its revision on a leaderboard row", () => {
    const board: Leaderboard = {
      tasks: [{ task: "gsm8k", entries: [entry("h", "ck-huginn", [[32, 0.4]])] }],
    } as Leaderboard;
    const [row] = leaderboardRows(board, [huginn], "gsm8k");
    expect(row.family).toBe("huginn");
    expect(row.facts).toBe("huginn · P·B·C 2·4·2 · adapter trained · ck-huginn");
    expect(row.source).toBe("tomg-group-umd/huginn-0125@0123456789");
    expect(
      sourceLabel({ ...huginn, provenance: { ...huginn.provenance, source: "org/m@main" } }),
    ).toBe("org/m@main");
    expect(checkpointFacts("ck-a", checkpoints[0])).toBe(
      "llama · P·B·C 1·2·1 · adapter random seed=0 · ck-a",
    );
    expect(checkpointFacts("ck-flat", checkpoints[2])).toBe(
      "llama · P·B·C 1·0·1 · no adapter · ck-flat",
    );
  });

  it("lists the run page's checkpoint facts, the config default r apart from the training r", () => {
    expect(checkpointDetails(huginn)).toEqual([
      ["flavour", "huginn"],
      ["source", "tomg-group-umd/huginn-0125@0123456789abcdef0123456789abcdef01234567"],
      ["layers P·B·C", "2·4·2"],
      ["adapter", "trained"],
      ["train r", "—"],
      ["config default r", "32"],
    ]);
    expect(checkpointDetails(checkpoints[0])).toEqual([
      ["flavour", "llama"],
      ["source", "src-1 (local)"],
      ["layers P·B·C", "1·2·1"],
      ["adapter", "random seed=0"],
      ["train r", "4"],
    ]);
    expect(checkpointDetails(undefined)).toEqual([["train r", "—"]]);
  });
});

describe("the headline r and comparable groups", () => {
  // Run a: r 1, 4 (n 10); b: r 1 (n 10); flat: non-recurrent, r 1 only.
  const detail = (run: string, tasks: Partial<RunDetail["tasks"][number]>, cap: number | null) =>
    ({
      id: run,
      config: { max_gen_toks: cap, num_fewshot: null },
      tasks: [
        {
          task: "gsm8k",
          task_hash: "t",
          dataset_id: "ds-1",
          dataset_files: {},
          canonical_data: true,
          num_fewshot: 8,
          doc_count: 10,
          ...tasks,
        },
      ],
      aggregates: [],
    }) as unknown as RunDetail;

  it("defaults to the largest r every recurrent run has; a non-recurrent run fits any r", () => {
    const rows = leaderboardRows(board, checkpoints, "gsm8k");
    expect(defaultRecurrence(rows)).toBe(1);
    expect(defaultRecurrence(rows.filter((r) => r.runId !== "b"))).toBe(4);
    // No r shared by all: the r most runs have.
    const [a, , flat] = rows;
    const c = { ...a, runId: "c", points: [a.points[1]] };
    const d = { ...a, runId: "d", points: [{ ...a.points[1], recurrences: 8 }] };
    expect(defaultRecurrence([a, c, d, flat])).toBe(4);
    expect(pointAt(flat, 32)?.accuracy).toBe(0.1);
    expect(pointAt(a, 32)).toBeUndefined();
    expect(defaultRecurrence([])).toBeUndefined();
  });

  it("ranks by accuracy at the chosen r, not the best over r", () => {
    const rows = leaderboardRows(board, checkpoints, "gsm8k");
    // At r = 1: b 0.3, a 0.2, flat 0.1; at r = 4 only a has a result (flat stands for any r).
    expect(sortRows(rows, "acc", "desc", 1).map((r) => r.runId)).toEqual(["b", "a", "flat"]);
    expect(sortRows(rows, "acc", "desc", 4).map((r) => r.runId)).toEqual(["a", "flat", "b"]);
  });

  it("groups runs that differ in n, few-shot, token cap or dataset version", () => {
    const details = new Map([
      ["a", detail("a", {}, null)],
      ["b", detail("b", { num_fewshot: 0 }, null)],
      ["flat", detail("flat", {}, 256)],
    ]);
    const tasks = [{ name: "gsm8k", max_gen_toks: 256 }];
    const rows = leaderboardRows(board, checkpoints, "gsm8k", details, tasks);
    expect(rows.map((r) => r.settings)).toEqual([
      { numFewshot: 8, maxGenToks: 256, datasetId: "ds-1", canonicalData: true },
      { numFewshot: 0, maxGenToks: 256, datasetId: "ds-1", canonicalData: true },
      { numFewshot: 8, maxGenToks: 256, datasetId: "ds-1", canonicalData: true },
    ]);
    // a and flat share every setting (the run's cap 256 equals the task's); b's 0-shot stands apart.
    expect(comparableGroups(rows, 1).map((g) => g.rows.map((r) => r.runId))).toEqual([
      ["a", "flat"],
      ["b"],
    ]);
    // At r = 4, b has no result: its group goes last whatever its size.
    const groups = comparableGroups(rows, 4);
    expect(groups.map((g) => [g.n, g.rows.map((r) => r.runId)])).toEqual([
      [10, ["a", "flat"]],
      [null, ["b"]],
    ]);
    // A lower cap, or another dataset version, splits a group.
    details.set("flat", detail("flat", { dataset_id: "ds-2" }, null));
    details.set("a", detail("a", {}, 128));
    const split = leaderboardRows(board, checkpoints, "gsm8k", details, tasks);
    expect(split[0].settings.maxGenToks).toBe(128);
    expect(comparableGroups(split, 1)).toHaveLength(3);
  });

  it("ranks runs of different weight precision apart and labels lossy ones with their agreement", () => {
    // ck-b re-exported as q4, measured against fp32 at export at r = 1, 4 and 32.
    const fidelity = {
      reference: "fp32" as const,
      prompts: "gsm8k test[0:32]",
      prompt_count: 32,
      continuation_tokens: 64,
      per_recurrence: [
        { recurrences: 1, top1_agreement: 0.99, mean_kl: 0.004, max_kl: 0.21 },
        { recurrences: 4, top1_agreement: 0.971, mean_kl: 0.012, max_kl: 0.5 },
        { recurrences: 32, top1_agreement: 0.93, mean_kl: 0.031, max_kl: 1.2 },
      ],
    };
    const lossy = checkpoints.map((c) =>
      c.id === "ck-b" ? { ...c, dtype: "q4" as const, fidelity } : c,
    );
    const rows = leaderboardRows(board, lossy, "gsm8k");
    // Same n, settings and dataset: only the precision keeps b out of a's and flat's table.
    const groups = comparableGroups(rows, 1);
    expect(groups.map((g) => [g.dtype, g.rows.map((r) => r.runId)])).toEqual([
      ["fp32", ["a", "flat"]],
      ["q4", ["b"]],
    ]);
    expect(comparableGroups(leaderboardRows(board, checkpoints, "gsm8k"), 1)).toHaveLength(1);

    const b = rows.find((r) => r.runId === "b")!;
    expect(precisionLabel(b.dtype, b.fidelity, 4)).toBe("q4 · 97.1% top-1 agree @r=4");
    // An r that was not measured reads the nearest measured one, and says which.
    expect(precisionLabel(b.dtype, b.fidelity, 8)).toBe("q4 · 97.1% top-1 agree @r=4");
    expect(precisionLabel(b.dtype, b.fidelity, 64)).toBe("q4 · 93.0% top-1 agree @r=32");
    expect(precisionLabel("fp16", null, 4)).toBe("fp16 · agreement with fp32 not measured");
    expect(precisionLabel("fp32", null, 4)).toBe("fp32");
    expect(precisionSummary("q4", fidelity.per_recurrence)).toBe(
      "q4 · top-1 agree with fp32 99.0% @r=1 (KL mean 0.0040, max 0.21), 97.1% @r=4 (KL mean 0.012, max 0.50), 93.0% @r=32 (KL mean 0.031, max 1.2)",
    );
    expect(precisionSummary("fp32", null)).toBe("fp32");
    // An fp16 export's fp16-compute graphs have their own agreement, and say where it was computed.
    const f16 = {
      ...fidelity,
      computed_on: "onnxruntime-web webgpu (mesa software llvmpipe)",
      per_recurrence: [{ recurrences: 4, top1_agreement: 0.914, mean_kl: 0.0074, max_kl: 0.28 }],
    };
    expect(precisionSummary("fp16", fidelity.per_recurrence.slice(1, 2), f16)).toBe(
      "fp16 · top-1 agree with fp32 97.1% @r=4 (KL mean 0.012, max 0.50); fp16-compute graphs (WebGPU with shader-f16), measured on onnxruntime-web webgpu (mesa software llvmpipe): top-1 agree with fp32 91.4% @r=4 (KL mean 0.0074, max 0.28)",
    );
    expect(precisionLabel("fp16", fidelity.per_recurrence, 4, f16.per_recurrence)).toBe(
      "fp16 · 97.1% top-1 agree @r=4 · fp16 compute 91.4% @r=4",
    );
    // An r whose documents came partly from the fp16-compute graphs mixes two precisions.
    expect(
      mixedComputeRecurrences([
        { recurrences: 1, backends: ["webgpu (webgpu_f16 graphs)"] },
        { recurrences: 4, backends: ["wasm", "webgpu (webgpu_f16 graphs)"] },
        { recurrences: 16, backends: ["node", "wasm"] },
      ]),
    ).toEqual([4]);
    // Manifests from before `computed_on` were measured on onnxruntime-node.
    expect(precisionSummary("fp16", null, { ...fidelity, per_recurrence: [] })).toBe(
      "fp16 · agreement with fp32 not measured; fp16-compute graphs (WebGPU with shader-f16), measured on onnxruntime-node: agreement with fp32 not measured",
    );
  });

  it("general tasks have no token cap and carry lambada's perplexity", () => {
    const general: Leaderboard = {
      tasks: [
        {
          task: "lambada_openai",
          entries: [{ ...entry("a", "ck-a", [[1, 0.4]]), primary_metric: "acc" }],
        },
      ],
    };
    const withPpl = detail("a", { task: "lambada_openai", num_fewshot: 0 }, null);
    withPpl.aggregates = [
      {
        task: "lambada_openai",
        recurrences: 1,
        n: 10,
        primary_metric: "acc",
        metrics: {
          acc: { accuracy: 0.4, stderr: 0.15, ci95: [0.17, 0.69] },
          perplexity: { accuracy: 12.5, stderr: 2, ci95: [9, 17] },
        },
        mean_flops: 1e6,
        mean_generated_tokens: 0,
        mean_prompt_tokens: 50,
        backends: ["wasm"],
      },
    ];
    const [row] = leaderboardRows(
      general,
      checkpoints,
      "lambada_openai",
      new Map([["a", withPpl]]),
      [{ name: "lambada_openai", max_gen_toks: 0 }],
    );
    expect(row.settings).toMatchObject({ numFewshot: 0, maxGenToks: null });
    expect(row.points[0].perplexity).toEqual({ value: 12.5, ci95: [9, 17] });
  });

  it("puts a checkpoint's math and general runs side by side", () => {
    const both: Leaderboard = {
      tasks: [
        {
          task: "arc_easy",
          entries: [{ ...entry("g", "ck-a", [[1, 0.5]]), primary_metric: "acc_norm" }],
        },
        board.tasks[0],
      ],
    };
    const curves = checkpointCurves(both, "ck-a");
    expect(curves.map((c) => [c.label, c.general, c.metric])).toEqual([
      ["arc_easy", true, "acc_norm"],
      ["gsm8k", false, "exact_match"],
    ]);
    expect(curves[1].points.map((p) => p.recurrences)).toEqual([1, 4]);
  });
});

describe("accuracy at equal FLOPs", () => {
  // Two measured points a decade apart on each side of 1e10.
  const curve = [
    { flops: 1e11, accuracy: 0.6, ci95: [0.4, 0.8] as [number, number] },
    { flops: 1e9, accuracy: 0.2, ci95: [0.1, 0.3] as [number, number] },
  ];

  it("interpolates linearly in log FLOPs, the interval's ends likewise", () => {
    // log10 1e10 is half way between 9 and 11: t = 1/2.
    const mid = accuracyAtFlops(curve, 1e10);
    expect(mid?.accuracy).toBeCloseTo(0.4, 12);
    expect(mid?.ci95[0]).toBeCloseTo(0.25, 12);
    expect(mid?.ci95[1]).toBeCloseTo(0.55, 12);
    // 10^9.5 is a quarter of the way: 0.2 + 0.25·0.4 = 0.3, [0.1 + 0.25·0.3, 0.3 + 0.25·0.5].
    const quarter = accuracyAtFlops(curve, 10 ** 9.5);
    expect(quarter?.accuracy).toBeCloseTo(0.3, 12);
    expect(quarter?.ci95[0]).toBeCloseTo(0.175, 12);
    expect(quarter?.ci95[1]).toBeCloseTo(0.425, 12);
    // Not halfway in linear FLOPs (5.05e10 would be): 5e10 is log-wise at t = 0.849485.
    expect(accuracyAtFlops(curve, 5e10)?.accuracy).toBeCloseTo(0.2 + 0.4 * 0.849485, 5);
  });

  it("returns measured points as they are and never extrapolates", () => {
    expect(accuracyAtFlops(curve, 1e9)).toEqual({ flops: 1e9, accuracy: 0.2, ci95: [0.1, 0.3] });
    expect(accuracyAtFlops(curve, 1e12)).toBeNull();
    expect(accuracyAtFlops(curve, 1e8)).toBeNull();
    expect(accuracyAtFlops(curve, 0)).toBeNull();
    expect(accuracyAtFlops([], 1e9)).toBeNull();
    expect(accuracyAtFlops([curve[0]], 1e10)).toBeNull();
  });

  it("compares curves where at least two can be read", () => {
    const baseline = [{ flops: 1e10, accuracy: 0.35, ci95: [0.2, 0.5] as [number, number] }];
    const rows = compareAtEqualFlops([curve, baseline]);
    expect(rows).toHaveLength(1);
    expect(rows[0].flops).toBe(1e10);
    expect(rows[0].values[0]?.accuracy).toBeCloseTo(0.4, 12);
    expect(rows[0].values[1]).toEqual(baseline[0]);
    // Two curves over overlapping ranges: each one's own points, read off the other.
    const other = [
      { flops: 1e10, accuracy: 0.5, ci95: [0.3, 0.7] as [number, number] },
      { flops: 1e12, accuracy: 0.7, ci95: [0.5, 0.9] as [number, number] },
    ];
    const both = compareAtEqualFlops([curve, other]);
    expect(both.map((r) => r.flops)).toEqual([1e10, 1e11]);
    // At 1e11 the second curve is half way (log) between 0.5 and 0.7.
    expect(both[1].values[1]?.accuracy).toBeCloseTo(0.6, 12);
    expect(both[1].values[0]?.accuracy).toBe(0.6);
  });
});
