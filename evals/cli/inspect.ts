// `evals inspect`: what a checkpoint is and what it costs per token at several recurrences.
import type { Command } from "commander";
import { readCheckpoint } from "../../model/checkpoint.ts";
import { effectiveParameters, flopsPerToken } from "../../model/flops.ts";

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
        `source       ${manifest.source.repo ?? manifest.source.path ?? `random preset ${manifest.source.preset}`}`,
        `layers       P=${prelude.length} [${prelude}]  B=${block.length} [${block}]  C=${coda.length} [${coda}]`,
        `shape        h=${a.hidden_size} heads=${a.num_attention_heads} kv=${a.num_key_value_heads} head_dim=${a.head_dim} mlp=${a.intermediate_size} vocab=${a.vocab_size}`,
        `adapter      ${manifest.adapter ? `${manifest.adapter.init}${manifest.adapter.std ? ` std=${manifest.adapter.std.toPrecision(3)}` : ""}` : "none (non-recurrent)"}`,
        `state init   ${manifest.state_init.kind}${manifest.state_init.kind === "trunc_normal" ? ` std=${manifest.state_init.std}` : ""}`,
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
