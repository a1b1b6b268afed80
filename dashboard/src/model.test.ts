// The dashboard's pure parts: leaderboard sorting, baseline discovery, changed documents, pairing.
import { describe, expect, it } from "vitest";
import type { Leaderboard } from "../../worker/protocol.ts";
import type { PublicCheckpoint, RunOutcomes } from "../../worker/routes/public-reads.ts";
import { checkpointFacts } from "./format.ts";
import {
  changesWithR,
  checkpointDetails,
  defaultTask,
  findBaseline,
  leaderboardRows,
  pairedDeltas,
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
