// The checkpoint record and list in workerd carry the checkpoint's provenance as every display
// names it: the raven flavour as is, `repo@revision` or a local folder's name (never the
// submitter's path), the adapter as trained / random seed=N / identity, and the config default r.
import { describe, expect, it } from "vitest";
import type { Checkpoint } from "../protocol.ts";
import { expectJson, makeToken } from "../testing/api.ts";
import { checkpointFixture, registerCheckpoint } from "../testing/checkpoint-fixture.ts";

async function huginnFixture() {
  const fixture = await checkpointFixture("huginn");
  const m = fixture.manifest;
  m.name = "huginn-0125";
  m.source = {
    ...m.source,
    kind: "hf",
    repo: "tomg-group-umd/huginn-0125",
    revision: "0123456789abcdef0123456789abcdef01234567",
    path: null,
    architecture: "RavenForCausalLM",
  };
  m.architecture.flavour = "huginn";
  m.architecture.num_key_value_heads = m.architecture.num_attention_heads;
  m.adapter = { init: "trained", std: null, seed: null };
  m.config_default_recurrence = 32;
  return fixture;
}

describe("checkpoint provenance in the API", () => {
  it("shows a huginn checkpoint as huginn from its repo@revision with a trained adapter", async () => {
    const submit = await makeToken("submit");
    const id = await registerCheckpoint(submit, await huginnFixture());
    const record = await expectJson<Checkpoint>(200, "GET", `/api/checkpoints/${id}`, {
      token: submit,
    });
    expect(record.provenance).toEqual({
      flavour: "huginn",
      source: "tomg-group-umd/huginn-0125@0123456789abcdef0123456789abcdef01234567",
      adapter: "trained",
      train_recurrence: null,
      config_default_recurrence: 32,
    });
  });

  it("names a local source by its folder only and a random adapter by its seed, in the list too", async () => {
    const submit = await makeToken("submit");
    const fixture = await checkpointFixture("local");
    fixture.manifest.source.path = "/home/ann/private/models/stories260k";
    fixture.manifest.adapter = { init: "random", std: 0.08, seed: 3 };
    const id = await registerCheckpoint(submit, fixture);
    const record = await expectJson<Checkpoint>(200, "GET", `/api/checkpoints/${id}`, {
      token: submit,
    });
    const expected = {
      flavour: "llama",
      source: "stories260k (local)",
      adapter: "random seed=3",
      train_recurrence: null,
      config_default_recurrence: null,
    };
    expect(record.provenance).toEqual(expected);
    expect(JSON.stringify(record.provenance)).not.toContain("/home/ann");

    const { checkpoints } = await expectJson<{ checkpoints: Omit<Checkpoint, "manifest">[] }>(
      200,
      "GET",
      "/api/checkpoints",
      { token: submit },
    );
    const listed = checkpoints.find((c) => c.id === id);
    expect(listed?.provenance).toEqual(expected);
    expect(JSON.stringify(checkpoints)).not.toContain("/home/ann");
  });
});

describe("quantized checkpoints in the API", () => {
  it("records a q4 manifest's quantization and export-time fidelity as submitted", async () => {
    const submit = await makeToken("submit");
    const fixture = await checkpointFixture("q4");
    const quantization = { bits: 4, block_size: 32, scheme: "asymmetric", embedding: "block" };
    const fidelity = {
      reference: "fp32",
      prompts: "gsm8k test[0:32]",
      prompt_count: 32,
      continuation_tokens: 64,
      per_recurrence: [{ recurrences: 1, top1_agreement: 0.97, mean_kl: 0.01, max_kl: 0.3 }],
    };
    Object.assign(fixture.manifest, { dtype: "q4", quantization, fidelity });
    const id = await registerCheckpoint(submit, fixture);
    const record = await expectJson<Checkpoint>(200, "GET", `/api/checkpoints/${id}`, {
      token: submit,
    });
    expect(record.manifest).toMatchObject({ dtype: "q4", quantization, fidelity });
  });
});
