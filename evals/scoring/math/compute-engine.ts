// One compute-engine for every MATH comparison, built on first use: construction costs ~150 ms,
// and a worker isolate that never scores MATH should not pay it.
import { ComputeEngine, type Expression } from "@cortex-js/compute-engine";

let engine: ComputeEngine | undefined;

export function computeEngine(): ComputeEngine {
  engine ??= new ComputeEngine();
  return engine;
}

export type { Expression };
