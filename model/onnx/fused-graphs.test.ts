// `--operators fused` graphs against the plain reference graphs of the same weights, on
// onnxruntime-node and onnxruntime-web's WASM backend: logits of a left-padded batch (prefill and
// decode through the KV cache) within 1e-4, and the same greedy tokens.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import { generateBatch } from "../../runner/engine/generate.ts";
import { openNodeModel } from "../../runner/engine/node-sessions.ts";
import { RecurrentModel } from "../../runner/engine/recurrent-model.ts";
import { type Checkpoint, readCheckpoint } from "../checkpoint.ts";
import { type ExportRequest, exportModel } from "../export-model.ts";
import { referenceLogits } from "../reference.ts";
import { loadSourceModel } from "../source.ts";
import { buildRecurrentWeights } from "../surgery.ts";
import { ortLogits, paddedBatchLogits, toleranceRatio } from "../testing/ort-logits.ts";
import { type RavenFixtureKind, writeRavenFixture } from "../testing/raven-fixture.ts";
import { STORY_PROMPTS, stories260kDir, stories260kTokenizer } from "../testing/stories.ts";
import { openWasmModelInNode } from "../testing/wasm-in-node.ts";
import { type NodeProto, onnx } from "./proto.ts";

const work = mkdtempSync(join(tmpdir(), "evals-fused-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Operator counts of a graph file (branches included), `domain.op` for contrib operators. */
function operatorCounts(checkpoint: Checkpoint, graph: "prelude" | "block" | "coda") {
  const file = checkpoint.manifest.graphs[graph]!.file;
  const model = onnx.ModelProto.decode(readFileSync(join(checkpoint.dir, file)));
  const counts = new Map<string, number>();
  // Nodes inside `If` branches count too (the decode branch's GroupQueryAttention).
  const count = (nodes: readonly NodeProto[]) => {
    for (const node of nodes) {
      const name = node.domain ? `${node.domain}.${node.opType}` : node.opType!;
      counts.set(name, (counts.get(name) ?? 0) + 1);
      for (const attr of node.attribute ?? [])
        if (attr.g) count((attr.g.node ?? []) as NodeProto[]);
    }
  };
  count((model.graph?.node ?? []) as NodeProto[]);
  return counts;
}

async function exportBoth(label: string, request: Omit<ExportRequest, "out">) {
  const dir = join(work, label.replace(/\W+/g, "-"));
  const plain = await exportModel({ ...request, out: `${dir}-plain` });
  const fused = await exportModel({ ...request, out: `${dir}-fused`, operators: "fused" });
  expect(plain.operators).toBe("plain");
  expect(fused.operators).toBe("fused");
  return {
    plain: await readCheckpoint(`${dir}-plain`),
    fused: await readCheckpoint(`${dir}-fused`),
  };
}

function expectWithin(fused: Float32Array[], plain: Float32Array[], tolerance: number) {
  expect(fused.length).toBe(plain.length);
  fused.forEach((step, i) => {
    expect(toleranceRatio(step, plain[i], tolerance), `step ${i}`).toBeLessThanOrEqual(1);
  });
}

const storyIds = stories260kTokenizer().encode(STORY_PROMPTS[1]).ids;
/** Three rows of different lengths: two are left-padded in the prefill. */
const rows = [storyIds.slice(0, 9), storyIds.slice(0, 4), storyIds.slice(2, 8)];
const RECURRENCES = 3;

type Case = {
  label: string;
  request: () => Omit<ExportRequest, "out">;
  /** SimplifiedLayerNormalization and SkipSimplifiedLayerNormalization nodes of an L-layer block. */
  norms: (layers: number) => [number, number];
  wasm?: false;
};
const fixture = (kind: RavenFixtureKind) => () => ({
  from: writeRavenFixture(join(work, `${kind}-source`), kind).dir,
});
// Pre-norm: every residual add feeds a norm (the MLP's feeds the next layer's input norm), except
// the last layer's, which is the graph output; only the first input norm stands alone.
const preNorm = (layers: number): [number, number] => [1, 2 * layers - 1];
const cases: Case[] = [
  {
    label: "stories260k llama 1,3,1",
    request: () => ({ from: stories260kDir, split: [1, 3, 1] }),
    norms: preNorm,
  },
  {
    label: "stories260k q4 1,3,1",
    request: () => ({ from: stories260kDir, split: [1, 3, 1], dtype: "q4" }),
    norms: preNorm,
  },
  // The llama graphs again (same layer code) from a raven source; node only: its 131,072-position
  // RoPE tables take a WASM session 10+ s to open here.
  { label: "retrofit-llama", request: fixture("retrofit-llama32"), norms: preNorm, wasm: false },
  // Post-norm normalises the branch, not the sum: its norms (and q/k norms) stay separate.
  {
    label: "retrofit-olmo2 (post-norm)",
    request: fixture("retrofit-olmo2"),
    norms: (l) => [4 * l, 0],
  },
  // Sandwich: both residual adds feed a norm, so only the two branch-input norms stay separate.
  { label: "huginn (sandwich)", request: fixture("huginn"), norms: (l) => [2 * l, 2 * l] },
];

describe.each(cases)("fused = plain: $label", ({ label, request, norms, wasm }) => {
  it("left-padded batch, prefill + 3 decode steps: logits within 1e-4 on node and wasm", async () => {
    const { plain, fused } = await exportBoth(label, request());
    const block = operatorCounts(fused, "block");
    const layers = fused.manifest.layers.block.length;
    expect([
      block.get("SimplifiedLayerNormalization") ?? 0,
      block.get("com.microsoft.SkipSimplifiedLayerNormalization") ?? 0,
    ]).toEqual(norms(layers));
    expect(block.get("com.microsoft.RotaryEmbedding")).toBe(2 * layers);
    // One-token steps on an in-place buffer attend with GroupQueryAttention (an If per layer).
    expect(block.get("If")).toBe(layers);
    expect(block.get("com.microsoft.GroupQueryAttention")).toBe(layers);
    expect(block.get("ReduceMean")).toBeUndefined();
    expect(operatorCounts(plain, "block").get("Expand")).toBeUndefined();

    const vocab = plain.manifest.architecture.vocab_size;
    const input = rows.map((row) => row.map((id) => id % vocab));
    const plainNode = await paddedBatchLogits(await openNodeModel(plain), input, RECURRENCES, 3);
    const fusedNode = await paddedBatchLogits(await openNodeModel(fused), input, RECURRENCES, 3);
    expectWithin(fusedNode, plainNode, 1e-4);
    if (wasm === false) return;
    const fusedWasm = await openWasmModelInNode(fused);
    expectWithin(await paddedBatchLogits(fusedWasm, input, RECURRENCES, 3), plainNode, 1e-4);
  });
});

describe("fused graphs on stories260k", () => {
  const split: [number, number, number] = [1, 3, 1];

  it("equal the reference forward (independent of the plain graphs) at r = 1 and 4", async () => {
    const out = join(work, "reference-fused");
    await exportModel({ from: stories260kDir, out, split, operators: "fused" });
    const model = await openNodeModel(await readCheckpoint(out));
    const weights = buildRecurrentWeights(loadSourceModel(stories260kDir), { split });
    for (const r of [1, 4]) {
      const expected = referenceLogits(weights, storyIds, { recurrences: r });
      expect(toleranceRatio(await ortLogits(model, storyIds, r), expected, 2e-3)).toBeLessThan(1);
    }
  });

  it("decode in place (node): the logits of a growing cache within 1e-4, no new cache tensor per step; wasm grows", async () => {
    const { fused } = await exportBoth("in-place", { from: stories260kDir, split });
    expect(fused.manifest.decode_attention).toBe("GroupQueryAttention");
    const model = await openNodeModel(fused);
    expect(model.decodesInPlace).toBe(true);
    expect((await openWasmModelInNode(fused)).decodesInPlace).toBe(false);
    const plainModel = await openNodeModel(
      (await exportBoth("in-place-plain", { from: stories260kDir, split })).plain,
    );
    expect(plainModel.decodesInPlace).toBe(false);

    const vocab = fused.manifest.architecture.vocab_size;
    const batch = rows.length;
    const longest = Math.max(...rows.map((row) => row.length));
    const mask = rows.map((row) => [...Array(longest - row.length).fill(0n), ...row.map(() => 1n)]);
    const prefill = {
      batch,
      inputIds: BigInt64Array.from(
        rows.flatMap((row) => [...Array(longest - row.length).fill(0n), ...row.map(BigInt)]),
      ),
      attentionMask: BigInt64Array.from(mask.flat()),
      positionIds: BigInt64Array.from(
        rows.flatMap((row) => [
          ...Array(longest - row.length).fill(0n),
          ...row.map((_, k) => BigInt(k)),
        ]),
      ),
    };
    const growing = model.newCache(batch, "full", RECURRENCES);
    await model.step(prefill, RECURRENCES, growing, 1);
    const prefilled = model.newCache(batch, "full", RECURRENCES);
    await model.step(prefill, RECURRENCES, prefilled, 1);
    // Room for two tokens: the third step grows the buffers (one copy), the fourth fits again.
    const inPlace = model.reserveDecode(prefilled, longest + 2)!;
    expect(inPlace.capacity).toBe(longest + 2);
    const tensors = () => inPlace.layers().flatMap((l) => [l.key, l.value]);
    for (let s = 0; s < 4; s++) {
      for (const row of mask) row.push(1n);
      const inputs = {
        batch,
        inputIds: BigInt64Array.from(rows.map((_, b) => BigInt((5 * b + 3 * s + 1) % vocab))),
        attentionMask: BigInt64Array.from(mask.flat()),
        positionIds: BigInt64Array.from(rows.map((row) => BigInt(row.length + s))),
      };
      const before = tensors();
      const expected = Float32Array.from(
        (await model.step(inputs, RECURRENCES, growing, 1)).data as Float32Array,
      );
      const got = (await model.step(inputs, RECURRENCES, inPlace, 1)).data as Float32Array;
      expect(toleranceRatio(got, expected, 1e-4), `step ${s}`).toBeLessThanOrEqual(1);
      if (s !== 2)
        expect(
          tensors().every((t, i) => t === before[i]),
          `step ${s}`,
        ).toBe(true);
    }
    expect(inPlace.capacity).toBe(2 * (longest + 2));
    // Rows that finished leave the batch: the smaller in-place cache keeps its capacity.
    const kept = [2, 0];
    const smaller = model.selectRows(inPlace, kept)!;
    const smallerGrowing = model.selectRows(growing, kept)!;
    expect(smaller.capacity).toBe(inPlace.capacity);
    for (const b of kept) mask[b].push(1n);
    const last = {
      batch: kept.length,
      inputIds: BigInt64Array.of(5n, 9n),
      attentionMask: BigInt64Array.from(kept.flatMap((b) => mask[b])),
      positionIds: BigInt64Array.from(kept.map((b) => BigInt(rows[b].length + 4))),
    };
    const expectedLast = (await model.step(last, RECURRENCES, smallerGrowing, 1))
      .data as Float32Array;
    const gotLast = (await model.step(last, RECURRENCES, smaller, 1)).data as Float32Array;
    expect(toleranceRatio(gotLast, expectedLast, 1e-4)).toBeLessThanOrEqual(1);
    // A step of several tokens cannot run in place (the graphs attend by Concat there).
    await expect(model.step(prefill, RECURRENCES, inPlace, 1)).rejects.toThrow(RangeError);
    for (const decodeHeadroom of [-1, 1.5])
      expect(
        () =>
          new RecurrentModel(ort, fused.manifest, model.sessions, "float32", { decodeHeadroom }),
      ).toThrow(/decodeHeadroom must be a whole number of KV slots/);
  });

  it("greedy generation: the same tokens as the plain graphs on node (in place, full and shared caches) and wasm", async () => {
    const { plain, fused } = await exportBoth("greedy", { from: stories260kDir, split });
    const tokenizer = stories260kTokenizer();
    const requests = STORY_PROMPTS.slice(0, 3).map((prompt, seed) => ({
      promptIds: tokenizer.encode(prompt).ids,
      seed,
    }));
    const config = {
      recurrences: 4,
      maxNewTokens: 24,
      kv: "full" as const,
      stateInit: "zeros" as const,
      stopIds: [],
      stopStrings: [],
    };
    const decode = (ids: readonly number[]) => tokenizer.decode([...ids]);
    const tokens = async (model: RecurrentModel) =>
      (await generateBatch(model, requests, config, decode)).map((result) => result.ids);
    const expected = await tokens(await openNodeModel(plain));
    expect(expected.flat().length).toBe(3 * 24);
    const fusedNode = await openNodeModel(fused);
    expect(fusedNode.decodesInPlace).toBe(true);
    expect(await tokens(fusedNode)).toEqual(expected);
    expect(await tokens(await openWasmModelInNode(fused))).toEqual(expected);
    // `shared` caches: every iteration rewrites the new token's slot of its one buffer in place.
    const sharedConfig = { ...config, kv: "shared" as const };
    const shared = async (model: RecurrentModel) =>
      (await generateBatch(model, requests, sharedConfig, decode)).map((result) => result.ids);
    expect(await shared(fusedNode)).toEqual(await shared(await openNodeModel(plain)));
  });
});
