// `evals export`: a Hugging Face Llama or raven checkpoint (or a random preset) → recurrent checkpoint.
import { type Command, Option } from "commander";
import { quantSpecOf } from "../../model/export.ts";
import { exportModel } from "../../model/export-model.ts";
import { DEFAULT_FIDELITY_PROMPTS, DEFAULT_FIDELITY_TOKENS } from "../../model/fidelity.ts";
import { RANDOM_PRESETS } from "../../model/random.ts";
import { parseLayerSpec, parseSplit } from "../../model/surgery.ts";
import { addNumericCheck } from "../../runner/engine/numeric-check.ts";
import { EvalsError } from "../errors.ts";
import { parseCheckpointName, parseInteger } from "./parse.ts";

export function registerExportCommand(program: Command): void {
  program
    .command("export")
    .description("export a model as prelude/block/coda ONNX graphs with a recurrent.json manifest")
    .option("--from <model>", "Hugging Face model directory or hf:org/name[@revision]")
    .addOption(
      new Option("--random <preset>", "random weights instead of --from").choices(
        Object.keys(RANDOM_PRESETS),
      ),
    )
    .requiredOption("--out <dir>", "checkpoint directory to write")
    .option(
      "--name <name>",
      "checkpoint name shown everywhere (default: source, P·B·C and adapter, e.g. 'stories260k 1·3·1 random-s0')",
    )
    .option("--split <P,B,C>", "first P layers, the B layers before the coda, the last C layers")
    .option("--layers <spec>", "explicit source layers prelude:block:coda, e.g. 0-3:6-11:12-15")
    .addOption(
      new Option("--adapter <init>", "adapter initialisation")
        .choices(["random", "identity"])
        .default("random"),
    )
    .option("--seed <n>", "seed of the random adapter / random weights", "0")
    .addOption(
      new Option(
        "--dtype <dtype>",
        "weight storage (fp16 also writes fp16-compute graphs, used on WebGPU with shader-f16)",
      )
        .choices(["fp32", "fp16"])
        .default("fp32"),
    )
    .addOption(
      new Option(
        "--quant <bits>",
        "quantized weights for the browser (q8|q4: MatMulNBits; i8: int8 MatMulInteger, activations per token, fast on CPU/WASM; replaces --dtype)",
      ).choices(["q8", "i8", "q4"]),
    )
    .option("--quant-block-size <n>", "weights per quantization block along K (default 32)")
    .option(
      "--accuracy-level <n>",
      "q8|q4: MatMulNBits accuracy_level 0-4 (default 0; 4 = int8 activations, fast q8 on node, less exact)",
    )
    .addOption(
      new Option(
        "--operators <set>",
        "plain: standard ONNX operators; fused: onnxruntime's fused RMSNorm and RoPE",
      )
        .choices(["plain", "fused"])
        .default("plain"),
    )
    .option(
      "--fidelity-prompts <n>",
      "lossy exports (fp16, q8, i8, q4): GSM8K prompts to compare with fp32 on (0 skips)",
      String(DEFAULT_FIDELITY_PROMPTS),
    )
    .option(
      "--fidelity-tokens <n>",
      "tokens of the fp32 greedy continuation scored per prompt",
      String(DEFAULT_FIDELITY_TOKENS),
    )
    .addOption(
      new Option(
        "--f16-fidelity-on <backend>",
        "fp16 exports: where the fp16-compute (webgpu_f16) graphs are measured; auto: WebGPU on a GPU with shader-f16, else node (whose fp32 kernels flatter them)",
      )
        .choices(["auto", "node", "webgpu"])
        .default("auto"),
    )
    .option("--data <dir>", "dataset root holding gsm8k/test.jsonl for the fidelity prompts")
    .action(async function runExport(options) {
      if (!options.from === !options.random) {
        throw new EvalsError("give exactly one of --from <model> or --random <preset>");
      }
      const started = performance.now();
      const dtype = quantDtype(options);
      const quantBlockSize =
        options.quantBlockSize === undefined
          ? undefined
          : parseInteger(options.quantBlockSize, "--quant-block-size");
      const accuracyLevel =
        options.accuracyLevel === undefined
          ? undefined
          : parseInteger(options.accuracyLevel, "--accuracy-level");
      // Bad quantization options fail before the fidelity note, so the error is the only line.
      quantSpecOf(dtype, quantBlockSize, accuracyLevel);
      const fidelity = {
        prompts: parseInteger(options.fidelityPrompts, "--fidelity-prompts", 0),
        tokens: parseInteger(options.fidelityTokens, "--fidelity-tokens", 1),
        dataDir: options.data,
        f16On: options.f16FidelityOn,
      };
      if (dtype !== "fp32" && fidelity.prompts > 0) {
        process.stderr.write(
          `note: after the export, the ${dtype} graphs are compared with fp32 on ${fidelity.prompts} GSM8K prompts × ` +
            `${fidelity.tokens} tokens at each r of 1, 4, 32 the checkpoint supports (minutes to hours for a 1B model; --fidelity-prompts 0 skips)\n`,
        );
      }
      const manifest = await exportModel({
        from: options.from,
        random: options.random,
        out: options.out,
        split: options.split ? parseSplit(options.split) : undefined,
        layers: options.layers ? parseLayerSpec(options.layers) : undefined,
        adapter: options.adapter,
        seed: parseInteger(options.seed, "--seed"),
        dtype,
        quantBlockSize,
        accuracyLevel,
        operators: options.operators,
        fidelity,
        onNote: (line) => process.stderr.write(`note: ${line}\n`),
        name: options.name === undefined ? undefined : parseCheckpointName(options.name),
      });
      // Logits every other backend must reproduce before it is trusted with this checkpoint.
      await addNumericCheck(options.out);
      const measured = [
        ["", manifest.fidelity],
        [
          ` (webgpu_f16 graphs, fp16 compute on ${manifest.variants?.webgpu_f16?.fidelity?.computed_on})`,
          manifest.variants?.webgpu_f16?.fidelity,
        ],
      ] as const;
      for (const [graphs, fidelity] of measured) {
        for (const row of fidelity?.per_recurrence ?? []) {
          process.stderr.write(
            `fidelity vs fp32${graphs} at r = ${row.recurrences}: top-1 agreement ${(100 * row.top1_agreement).toFixed(1)}%, ` +
              `KL mean ${row.mean_kl.toExponential(2)} max ${row.max_kl.toExponential(2)} nats\n`,
          );
        }
      }
      const { prelude, block, coda } = manifest.layers;
      process.stderr.write(
        `exported ${manifest.name} → ${options.out} (P,B,C = ${prelude.length},${block.length},${coda.length}; ` +
          `${manifest.parameters.total.toLocaleString("en-US")} parameters; ${manifest.dtype}) ` +
          `in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
      );
    });
}

function quantDtype(options: {
  dtype: string;
  quant?: "q8" | "i8" | "q4";
}): "fp32" | "fp16" | "q8" | "i8" | "q4" {
  if (!options.quant) return options.dtype as "fp32" | "fp16";
  if (options.dtype !== "fp32") {
    throw new EvalsError(`give --quant ${options.quant} or --dtype ${options.dtype}, not both`);
  }
  return options.quant;
}
