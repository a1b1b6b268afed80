// Every part of the DESIGN §7 result key changes the key; parts of the manifest that cannot change
// a completion do not.
import { describe, expect, it } from "vitest";
import type { Manifest } from "../../model/manifest.ts";
import { checkpointFixture } from "../../worker/testing/manifest-fixture.ts";
import { checkpointIdentity, keyedBackend, type ResultKeyParts, resultKey } from "./result-key.ts";

const hex = (c: string) => c.repeat(64);

const base: ResultKeyParts = {
  checkpoint: hex("a"),
  taskHash: hex("b"),
  datasetFiles: [hex("c"), hex("d")],
  docHash: hex("e"),
  promptHash: hex("f"),
  recurrences: 4,
  generation: { until: ["Q:", "</s>"], maxNewTokens: 256 },
  stateInit: "zeros",
  seed: 0,
  kv: "full",
  dtype: "fp32",
};

const keyChanges: [string, Partial<ResultKeyParts>][] = [
  ["checkpoint", { checkpoint: hex("0") }],
  ["task version", { taskHash: hex("0") }],
  ["a dataset file", { datasetFiles: [hex("c"), hex("0")] }],
  ["an extra dataset file", { datasetFiles: [hex("c"), hex("d"), hex("0")] }],
  ["document", { docHash: hex("0") }],
  ["prompt (few-shot)", { promptHash: hex("0") }],
  ["recurrences", { recurrences: 8 }],
  ["stop strings", { generation: { until: ["Q:"], maxNewTokens: 256 } }],
  ["max new tokens", { generation: { until: ["Q:", "</s>"], maxNewTokens: 32 } }],
  ["state init", { stateInit: "normal" }],
  ["seed", { seed: 1 }],
  ["KV strategy", { kv: "shared" }],
  ["dtype", { dtype: "fp16" }],
  ["graph variant (fp16 compute)", { graphVariant: '{"variant":"webgpu_f16","files":[]}' }],
  ["backend (int8 activations)", { backend: "wasm" }],
];

describe("resultKey", () => {
  it.each(keyChanges)("changes with the %s", async (_, change) => {
    expect(await resultKey({ ...base, ...change })).not.toBe(await resultKey(base));
  });

  it("keys the default graphs as before graph variants existed (no graphVariant field)", async () => {
    expect(await resultKey({ ...base, graphVariant: undefined })).toBe(await resultKey(base));
  });

  it("keys a backend only where it is given, so other keys are what they were", async () => {
    expect(await resultKey({ ...base, backend: undefined })).toBe(await resultKey(base));
    expect(await resultKey({ ...base, backend: "node" })).not.toBe(
      await resultKey({ ...base, backend: "wasm" }),
    );
  });

  it("names the backend only for checkpoints that quantize activations at run time", async () => {
    const { manifest } = await checkpointFixture();
    const quantized = (quantization: Partial<NonNullable<Manifest["quantization"]>>) => ({
      ...manifest,
      quantization: {
        bits: 8 as const,
        block_size: 32,
        scheme: "asymmetric" as const,
        embedding: "block" as const,
        ...quantization,
      },
    });
    expect(keyedBackend(manifest, "node")).toBeUndefined();
    expect(keyedBackend(quantized({}), "node")).toBeUndefined();
    expect(keyedBackend(quantized({ accuracy_level: 0 }), "wasm")).toBeUndefined();
    expect(keyedBackend(quantized({ accuracy_level: 4 }), "node")).toBe("node");
    const i8 = quantized({ scheme: "symmetric_per_column", linear: "MatMulInteger" });
    expect(keyedBackend(i8, "wasm")).toBe("wasm");
    const perTensorI8 = quantized({
      scheme: "symmetric_per_column",
      linear: "DynamicQuantizeMatMul",
    });
    expect(keyedBackend(perTensorI8, "node")).toBe("node");
  });

  it("does not depend on the order dataset files are listed in", async () => {
    const swapped = { ...base, datasetFiles: [hex("d"), hex("c")] };
    expect(await resultKey(swapped)).toBe(await resultKey(base));
  });
});

type Edit = (m: Manifest) => void;

const identityChanges: [string, Edit][] = [
  [
    "prelude graph",
    (m) => {
      m.graphs.prelude.sha256 = hex("0");
    },
  ],
  [
    "block graph",
    (m) => {
      m.graphs.block!.sha256 = hex("0");
    },
  ],
  [
    "coda graph",
    (m) => {
      m.graphs.coda.sha256 = hex("0");
    },
  ],
  [
    "block external data",
    (m) => {
      m.graphs.block!.externalData!.sha256 = hex("0");
    },
  ],
  [
    "coda external data added",
    (m) => {
      m.graphs.coda.externalData = { file: "coda.onnx.data", sha256: hex("0"), bytes: 1 };
    },
  ],
  [
    "tokenizer.json",
    (m) => {
      m.tokenizer.files["tokenizer.json"] = hex("0");
    },
  ],
  [
    "tokenizer_config.json",
    (m) => {
      m.tokenizer.files["tokenizer_config.json"] = hex("0");
    },
  ],
  [
    "an added tokenizer file",
    (m) => {
      m.tokenizer.files["special_tokens_map.json"] = hex("0");
    },
  ],
  [
    "rms norm eps",
    (m) => {
      m.architecture.rms_norm_eps = 1e-6;
    },
  ],
  [
    "rope theta",
    (m) => {
      m.architecture.rope.theta = 500000;
    },
  ],
  [
    "embed scale",
    (m) => {
      m.architecture.embed_scale = 8;
    },
  ],
  [
    "context length",
    (m) => {
      m.architecture.max_position_embeddings = 256;
    },
  ],
  [
    "layer split",
    (m) => {
      m.layers.block = [1, 2];
    },
  ],
  [
    "adapter seed",
    (m) => {
      m.adapter = { init: "random", std: 0.08, seed: 1 };
    },
  ],
  [
    "state init",
    (m) => {
      m.state_init = { kind: "trunc_normal", std: 1 };
    },
  ],
  [
    "eos ids",
    (m) => {
      m.tokens.eos_token_ids = [2, 3];
    },
  ],
  [
    "bos",
    (m) => {
      m.tokens.add_bos_token = false;
    },
  ],
  [
    "dtype",
    (m) => {
      m.dtype = "fp16";
    },
  ],
];

const identityKept: [string, Edit][] = [
  [
    "name",
    (m) => {
      m.name = "renamed";
    },
  ],
  [
    "created_by",
    (m) => {
      m.created_by = "someone else";
    },
  ],
  [
    "source path",
    (m) => {
      m.source.path = "/elsewhere";
    },
  ],
  [
    "train recurrence",
    (m) => {
      m.train_recurrence = 32;
    },
  ],
];

async function identityAfter(edit: Edit): Promise<[string, string]> {
  const { manifest } = await checkpointFixture("k", 64, "block weights");
  const changed = structuredClone(manifest);
  edit(changed);
  return [await checkpointIdentity(manifest), await checkpointIdentity(changed)];
}

describe("checkpointIdentity", () => {
  it.each(identityChanges)("changes with the %s", async (_, edit) => {
    const [before, after] = await identityAfter(edit);
    expect(after).not.toBe(before);
  });

  it.each(identityKept)("ignores the %s", async (_, edit) => {
    const [before, after] = await identityAfter(edit);
    expect(after).toBe(before);
  });

  it("tells checkpoints apart that differ only in block.onnx.data", async () => {
    const a = await checkpointFixture("same", 64, "weights A");
    const b = await checkpointFixture("same", 64, "weights B");
    expect(a.files.get("block.onnx")).toEqual(b.files.get("block.onnx"));
    expect(await checkpointIdentity(a.manifest)).not.toBe(await checkpointIdentity(b.manifest));
  });
});
