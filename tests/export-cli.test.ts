// `evals export` and `evals inspect` through the real command line: bad input gets one line naming
// the file or tensor, exit code 2, no stack trace, and no partial checkpoint left behind.
// The binary runs for the first export; the other cases call the same program in-process
// (tests/cli.ts).
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openSafetensors } from "../model/safetensors.ts";
import { stories260kDir } from "../model/testing/stories.ts";
import { type TestTensor, writeSafetensors } from "../model/testing/write-safetensors.ts";
import { runCli, runCliInProcess } from "./cli.ts";

const work = mkdtempSync(join(tmpdir(), "evals-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A copy of stories260k whose weights are rewritten by `edit`. */
function brokenModel(name: string, edit: (tensors: Record<string, TestTensor>) => void): string {
  const dir = join(work, name);
  cpSync(stories260kDir, dir, { recursive: true });
  const st = openSafetensors(join(dir, "model.safetensors"));
  const tensors: Record<string, TestTensor> = {};
  for (const [tensorName, info] of st.tensors)
    tensors[tensorName] = { data: st.read(tensorName), shape: info.shape };
  edit(tensors);
  writeSafetensors(join(dir, "model.safetensors"), tensors);
  return dir;
}

function modelCopy(name: string): string {
  const dir = join(work, name);
  cpSync(stories260kDir, dir, { recursive: true });
  return dir;
}

describe("evals export from the command line", () => {
  it("exports stories260k and inspect reports it", async () => {
    const out = join(work, "ok");
    const exported = await runCli([
      "export",
      "--from",
      stories260kDir,
      "--split",
      "1,3,1",
      "--out",
      out,
    ]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(/P,B,C = 1,3,1/);
    const inspected = await runCliInProcess(["inspect", out, "--json"]);
    expect(inspected.code).toBe(0);
    const report = JSON.parse(inspected.stdout);
    expect(report.manifest.layers.block).toEqual([1, 2, 3]);
    // The default name tells this cut apart from others of the same model.
    expect(report.manifest.name).toBe("stories260k 1·3·1 random-s0");
    expect(report.manifest.numeric_check.top5).toHaveLength(5);
    expect(report.costs.map((c: { recurrences: number }) => c.recurrences)).toEqual([1, 4, 16, 32]);
  });

  it("--name names the checkpoint; a blank name is refused", async () => {
    const out = join(work, "named");
    const args = ["export", "--random", "tiny", "--out", out];
    const named = await runCliInProcess([...args, "--name", "tiny baseline A"]);
    expect(named.code, named.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, "recurrent.json"), "utf8"));
    expect(manifest.name).toBe("tiny baseline A");
    const blank = await runCliInProcess([...args, "--name", "  "]);
    expect(blank.code).toBe(2);
    expect(blank.stderr.trim()).toBe('error: --name "  " must be 1 to 100 printable characters');
  });

  const truncated = () => {
    const dir = modelCopy("truncated");
    truncateSync(join(dir, "model.safetensors"), 600_000);
    return dir;
  };
  const lyingHeader = () => {
    const dir = modelCopy("lying");
    const path = join(dir, "model.safetensors");
    const bytes = readFileSync(path);
    const text = bytes.toString("latin1").replace('"shape":[512,64]', '"shape":[512,32]');
    writeFileSync(path, Buffer.from(text, "latin1"));
    return dir;
  };
  const unsupportedArchitecture = () => {
    const dir = modelCopy("gpt2");
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    writeFileSync(
      join(dir, "config.json"),
      JSON.stringify({ ...config, model_type: "gpt2", architectures: ["GPT2LMHeadModel"] }),
    );
    return dir;
  };

  const cases: [string, () => string, string[], RegExp][] = [
    [
      "a missing model path",
      () => join(work, "nowhere"),
      [],
      /model directory not found: .*nowhere/,
    ],
    ["truncated weights", truncated, [], /model\.safetensors.*truncated/],
    ["a header whose offsets lie", lyingHeader, [], /lm_head\.weight claims bytes .*header lies/],
    [
      "a missing tensor",
      () => brokenModel("missing", (t) => delete t["model.layers.2.mlp.up_proj.weight"]),
      [],
      /model\.layers\.2\.mlp\.up_proj\.weight is missing/,
    ],
    [
      "a wrong shape",
      () =>
        brokenModel("shape", (t) => {
          t["model.layers.1.self_attn.k_proj.weight"].shape = [64, 32];
        }),
      [],
      /model\.layers\.1\.self_attn\.k_proj\.weight .*shape \[64,32\] .*\[32,64\]/,
    ],
    [
      "an unsupported dtype",
      () =>
        brokenModel("f64", (t) => {
          t["model.norm.weight"].dtype = "F64";
        }),
      [],
      /model\.norm\.weight .*dtype F64/,
    ],
    [
      "an unsupported architecture",
      unsupportedArchitecture,
      [],
      /model_type "gpt2".* not supported/,
    ],
    [
      "a split larger than the model",
      () => stories260kDir,
      ["--split", "2,3,2"],
      /needs 7 layers but the model has 5/,
    ],
    [
      "an accuracy level MatMulNBits lacks",
      () => stories260kDir,
      ["--quant", "q8", "--accuracy-level", "7"],
      /--accuracy-level 7: MatMulNBits takes 0 \(kernel default\), 1 .* or 4 \(int8\)/,
    ],
    [
      "an accuracy level for i8",
      () => stories260kDir,
      ["--quant", "i8", "--accuracy-level", "4"],
      /--accuracy-level applies to --quant q8\|q4, not to i8/,
    ],
  ];

  it.each(cases)("refuses %s with one line and exit 2", async (_, makeSource, extra, message) => {
    const source = makeSource();
    const out = join(work, `out-${readdirSync(work).length}`);
    const result = await runCliInProcess(["export", "--from", source, "--out", out, ...extra]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((name) => name.includes(".partial"))).toEqual([]);
  });

  it("refuses an unwritable --out and prints the stack only with --verbose", async () => {
    const blocker = join(work, "a-file");
    writeFileSync(blocker, "not a directory");
    const result = await runCliInProcess([
      "export",
      "--from",
      stories260kDir,
      "--out",
      join(blocker, "ckpt"),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot write to .*a-file.*writable --out/);
    const verbose = await runCliInProcess([
      "--verbose",
      "export",
      "--from",
      join(work, "nowhere"),
      "--out",
      join(work, "x"),
    ]);
    expect(verbose.code).toBe(2);
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });

  it("--f16-fidelity-on says where the fp16-compute graphs are measured, and the manifest records it", async () => {
    const out = join(work, "fp16-fidelity");
    const result = await runCliInProcess([
      "export",
      "--from",
      stories260kDir,
      "--split",
      "1,3,1",
      "--dtype",
      "fp16",
      "--fidelity-prompts",
      "1",
      "--fidelity-tokens",
      "2",
      "--f16-fidelity-on",
      "node",
      "--out",
      out,
    ]);
    expect(result.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, "recurrent.json"), "utf8"));
    expect(manifest.fidelity.computed_on).toBe("onnxruntime-node");
    expect(manifest.variants.webgpu_f16.fidelity.computed_on).toBe("onnxruntime-node");
    // Measured on CPU kernels, the fp16-compute graphs look better than a GPU computes them.
    expect(result.stderr).toContain("a GPU's half-precision shaders lose more");
    expect(result.stderr).toContain(
      "(webgpu_f16 graphs, fp16 compute on onnxruntime-node) at r = 4",
    );
    const bad = await runCliInProcess([
      "export",
      "--from",
      stories260kDir,
      "--out",
      join(work, "z"),
      "--f16-fidelity-on",
      "gpu",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--f16-fidelity-on.*auto, node, webgpu/);
  });

  it("rejects unknown flags and bad values with exit 2", async () => {
    expect((await runCliInProcess(["export", "--bogus"])).code).toBe(2);
    const dtype = await runCliInProcess([
      "export",
      "--from",
      stories260kDir,
      "--out",
      join(work, "y"),
      "--dtype",
      "int4",
    ]);
    expect(dtype.code).toBe(2);
    expect(dtype.stderr).toMatch(/--dtype/);
  });
});
