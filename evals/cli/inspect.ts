// `evals inspect`: what a checkpoint is and what it costs per token at several recurrences.
import type { Command } from "commander";
import { readCheckpoint } from "../../model/checkpoint.ts";
import { effectiveParameters, flopsPerToken } from "../../model/flops.ts";
import type { Manifest } from "../../model/manifest.ts";

const RECURRENCES = [1, 4, 16, 32];
/** Context length at which per-token FLOPs are quoted. */
const CONTEXT = 1024;

export function registerInspectCommand(program: Command): void {
  program
    .command("inspect <checkpoint>")
    .description(
      "summarise a checkpoint: shapes, parameters, effective parameters and FLOPs per token",
    )
    .option("--json", "print JSON instead of text")
    .option("--no-verify", "skip checking file hashes")
    .action(async function runInspect(dir: string, options) {
      const { manifest } = await readCheckpoint(dir, { verify: options.verify });
      const costs = RECURRENCES.map((r) => ({
        recurrences: r,
        effective_parameters: effectiveParameters(manifest, r),
        flops_per_token: flopsPerToken(manifest, r, CONTEXT),
      }));
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({ manifest, context_length: CONTEXT, costs }, null, 2)}\n`,
        );
        return;
      }
      const a = manifest.architecture;
      const { prelude, block, coda } = manifest.layers;
      const n = (v: number) => v.toLocaleString("en-US");
      const lines = [
        `${manifest.name}  (${manifest.source.architecture}, ${a.flavour}, ${manifest.dtype})`,
        `flavour      ${a.flavour}`,
        `source       ${sourceLine(manifest)}`,
        `layers       P=${prelude.length} [${prelude}]  B=${block.length} [${block}]  C=${coda.length} [${coda}]`,
        `shape        h=${a.hidden_size} heads=${a.num_attention_heads} kv=${a.num_key_value_heads} head_dim=${a.head_dim} mlp=${a.intermediate_size} vocab=${a.vocab_size}`,
        `adapter      ${adapterLine(manifest)}`,
        `state init   ${manifest.state_init.kind}${manifest.state_init.kind === "trunc_normal" ? ` std=${manifest.state_init.std}` : ""}`,
        `recurrence   trained r=${manifest.train_recurrence ?? "unknown"}; config default r=${manifest.config_default_recurrence ?? "none"}`,
        "parameters   " +
          Object.entries(manifest.parameters)
            .map(([k, v]) => `${k}=${n(v)}`)
            .join(" "),
        "",
        `r     effective params   GFLOPs/token @ t=${CONTEXT}`,
        ...costs.map(
          (c) =>
            `${String(c.recurrences).padEnd(5)} ${n(c.effective_parameters).padStart(16)}   ${(c.flops_per_token / 1e9).toFixed(4).padStart(12)}`,
        ),
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}

/** Where the weights came from: hub repo at its revision, a local path, or a random preset. */
export function sourceLine(manifest: Manifest): string {
  const { source } = manifest;
  if (source.kind === "hf") return `${source.repo}@${source.revision ?? "unknown revision"}`;
  if (source.kind === "path") return `${source.path} (local, no revision)`;
  return `random preset ${source.preset}`;
}

/** trained (stored in the checkpoint), random with its seed and std, or identity. */
export function adapterLine(manifest: Manifest): string {
  const adapter = manifest.adapter;
  if (!adapter) return "none (non-recurrent)";
  if (adapter.init === "random") {
    return `random seed=${adapter.seed ?? "unknown"}${adapter.std ? ` std=${adapter.std.toPrecision(3)}` : ""}`;
  }
  return adapter.init;
}
