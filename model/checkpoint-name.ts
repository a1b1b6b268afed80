// The default name of an exported checkpoint: the source's name, the split and the adapter, so
// checkpoints cut differently from one model read differently everywhere they are listed.
import type { Manifest } from "./manifest.ts";

/** `P·B·C` layer counts, e.g. `1·3·1`. */
export function splitLabel(layers: Manifest["layers"]): string {
  return `${layers.prelude.length}·${layers.block.length}·${layers.coda.length}`;
}

/** `random-s0`, `identity`, `trained`; null when the checkpoint has no adapter. */
export function adapterLabel(adapter: Manifest["adapter"]): string | null {
  if (!adapter) return null;
  return adapter.init === "random" && adapter.seed !== null
    ? `random-s${adapter.seed}`
    : adapter.init;
}

/** Example: `stories260k 1·3·1 random-s0`. */
export function defaultCheckpointName(
  base: string,
  layers: Manifest["layers"],
  adapter: Manifest["adapter"],
): string {
  return [base, splitLabel(layers), adapterLabel(adapter)].filter(Boolean).join(" ");
}
