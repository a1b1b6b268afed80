// `evals export` / `evals inspect` on raven checkpoints through the real command line: the export
// log says which configured ids and keys it dropped, inspect shows flavour, source and adapter,
// and each refusal is one line naming the file and the tensor or key, with exit code 2.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeRavenFixture } from "../model/testing/raven-fixture.ts";
import { runCli } from "./cli.ts";

const work = mkdtempSync(join(tmpdir(), "evals-raven-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("evals export of a raven checkpoint", () => {
  it("logs dropped ids and keys, and inspect shows flavour, source and adapter", async () => {
    const fixture = writeRavenFixture(join(work, "huginn"), "huginn");
    const out = join(work, "huginn-out");
    const exported = await runCli(["export", "--from", fixture.dir, "--out", out]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(
      /note: dropped config\.json bos_token_id 65504: outside the vocabulary \(320 ids\)/,
    );
    expect(exported.stderr).toMatch(/note: dropped generation_config\.json eos_token_id 65508/);
    const inspected = await runCli(["inspect", out]);
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toMatch(/^flavour +huginn$/m);
    expect(inspected.stdout).toMatch(
      new RegExp(`^source +${fixture.dir} \\(local, no revision\\)$`, "m"),
    );
    expect(inspected.stdout).toMatch(/^adapter +trained$/m);
    expect(inspected.stdout).toMatch(/^recurrence +trained r=unknown; config default r=32$/m);
  });

  const refusals: [string, Parameters<typeof writeRavenFixture>[2], RegExp][] = [
    [
      "mixed flavour markers",
      {
        extraTensors: {
          "transformer.prelude.0.attn.k_norm.weight": { data: new Float32Array(64), shape: [64] },
        },
      },
      /config\.json: the checkpoint mixes markers .*transformer\.prelude\.0\.attn\.k_norm\.weight/,
    ],
    [
      "Huginn with kv heads ≠ heads",
      { config: { num_key_value_heads: 1 } },
      /config\.json: key num_key_value_heads 1 differs from n_heads 4/,
    ],
    ["an adapter bias", { config: { bias: true } }, /config\.json: key bias is true/],
  ];

  it.each(refusals)("refuses %s with one line and exit 2", async (name, options, message) => {
    const fixture = writeRavenFixture(join(work, name.replace(/\W+/g, "-")), "huginn", options);
    const out = join(work, `${name.replace(/\W+/g, "-")}-out`);
    const result = await runCli(["export", "--from", fixture.dir, "--out", out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });
});
