// `--model` for `evals submit`: a checkpoint directory as is, or a Hugging Face model (a directory
// or `hf:org/name[@rev]`) exported on the fly with `--split`, the same way `evals export` does it,
// into a cache under .evals/exports/ keyed by the source and the split.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { CheckpointError } from "../../model/errors.ts";
import { exportModel } from "../../model/export-model.ts";
import { MANIFEST_FILE } from "../../model/manifest.ts";
import { parseSplit } from "../../model/surgery.ts";
import { addNumericCheck } from "../../runner/engine/numeric-check.ts";
import { EvalsError } from "../errors.ts";

export interface ResolvedCheckpoint {
  dir: string;
  /** Set when the checkpoint was exported now or taken from the export cache. */
  exported?: { from: string; split: string; cached: boolean };
}

/** The export cache folder for a source and split; the key changes when the weights change. */
function exportCacheDir(from: string, split: string, cacheRoot: string): string {
  const hash = createHash("sha256").update(from).update("\0").update(split);
  if (!from.startsWith("hf:")) {
    const dir = resolve(from);
    for (const name of readdirSync(dir).sort()) {
      const stat = statSync(join(dir, name));
      if (stat.isFile()) hash.update(`\0${name}:${stat.size}:${stat.mtimeMs}`);
    }
  }
  const name = from.startsWith("hf:")
    ? from.slice(3).replace(/[@/]/g, "--")
    : basename(resolve(from));
  const label = name.replace(/[^\w.-]/g, "_");
  return join(
    cacheRoot,
    `${label}-${split.replaceAll(",", "-")}-${hash.digest("hex").slice(0, 12)}`,
  );
}

/**
 * Example: `await resolveCheckpoint("hf:nickypro/tinyllama-15M", "1,4,1")` → an exported dir.
 * `log` hears what is being done (on stderr in the CLI).
 */
export async function resolveCheckpoint(
  model: string,
  split: string | undefined,
  log: (line: string) => void,
  cacheRoot = join(".evals", "exports"),
): Promise<ResolvedCheckpoint> {
  const isHub = model.startsWith("hf:");
  if (!isHub) {
    if (!existsSync(model)) {
      throw new CheckpointError(
        `--model ${model}: no such checkpoint or model directory; give a checkpoint ` +
          "(evals export --out), a Hugging Face model directory with --split P,B,C, or hf:org/name[@rev]",
      );
    }
    if (existsSync(join(model, MANIFEST_FILE))) {
      if (split) {
        throw new EvalsError(
          `--split applies to a Hugging Face model; ${model} is already a recurrent checkpoint`,
        );
      }
      return { dir: model };
    }
    if (!existsSync(join(model, "config.json"))) {
      throw new CheckpointError(
        `--model ${model} holds neither ${MANIFEST_FILE} (a checkpoint) nor config.json (a Hugging Face model)`,
      );
    }
  }
  if (!split) {
    throw new EvalsError(
      `--model ${model} is a Hugging Face model, not a recurrent checkpoint: give --split P,B,C to export it`,
    );
  }
  const layers = parseSplit(split);
  const canonical = layers.join(",");
  const out = exportCacheDir(model, canonical, cacheRoot);
  if (existsSync(join(out, MANIFEST_FILE))) {
    log(`using the export of ${model} (split ${canonical}) cached in ${out}`);
    return { dir: out, exported: { from: model, split: canonical, cached: true } };
  }
  log(`exporting ${model} with split ${canonical} into ${out}`);
  await exportModel({ from: model, out, split: layers, adapter: "random", seed: 0 });
  await addNumericCheck(out);
  return { dir: out, exported: { from: model, split: canonical, cached: false } };
}
