// One interface over the three backends: onnxruntime-node in this process, onnxruntime-web on
// wasm or webgpu in headless Chromium. Callers never see which one runs, but every result says.

import type { Browser } from "playwright-core";
import type { Manifest } from "../model/manifest.ts";
import { BrowserEngine } from "./browser/browser-engine.ts";
import {
  type GenerationConfig,
  type GenerationRequest,
  type GenerationResult,
  generateBatch,
  generateSweep,
  type SweepGeneration,
} from "./engine/generate.ts";
import { chooseGraphVariant, type GraphChoice } from "./engine/graph-variant.ts";
import { loadNodeCheckpoint, stopIdsOf } from "./engine/load-node.ts";
import {
  type EncodedPair,
  encodePair,
  type LoglikelihoodConfig,
  type LoglikelihoodRequest,
  type LoglikelihoodResult,
  scoreLoglikelihood,
  scoreLoglikelihoodSweep,
} from "./engine/loglikelihood.ts";
import { NODE_DEFAULT_THREADS } from "./engine/node-sessions.ts";

export type BackendName = "node" | "wasm" | "webgpu";

export interface EngineBackend {
  readonly name: BackendName;
  readonly manifest: Manifest;
  /** EOS ids plus BOS. */
  readonly stopIds: number[];
  /** Adapter description for records (the GPU for webgpu, the thread count otherwise). */
  readonly adapter: string;
  /** The checkpoint's graph set this backend computes with, and why (posted with each result). */
  readonly graphs: GraphChoice;
  encode(texts: string[]): Promise<number[][]>;
  generate(requests: GenerationRequest[], config: GenerationConfig): Promise<GenerationResult[]>;
  /**
   * Every r of `recurrences` (ascending, distinct) from one prefill at the largest: each r's
   * results equal `generate` at that r alone (a bundled lease runs its shards this way).
   */
  generateSweep(
    requests: GenerationRequest[],
    config: Omit<GenerationConfig, "recurrences">,
    recurrences: number[],
  ): Promise<SweepGeneration[]>;
  /** lm-eval's `_encode_pair` for each request (BOS prepended when `bos`). */
  encodePairs(requests: LoglikelihoodRequest[], bos: boolean): Promise<EncodedPair[]>;
  loglikelihood(pairs: EncodedPair[], config: LoglikelihoodConfig): Promise<LoglikelihoodResult[]>;
  /** `loglikelihood` at every r of `recurrences` (ascending, distinct): results per r. */
  loglikelihoodSweep(
    pairs: EncodedPair[],
    config: Omit<LoglikelihoodConfig, "recurrences">,
    recurrences: number[],
  ): Promise<LoglikelihoodResult[][]>;
  close(): Promise<void>;
}

/**
 * Threads an engine gets unless told: node 2 without spinning (bench/threads.ts: 1.4–2.4× of 1
 * thread); WASM 1, since 2 WASM threads decode the `small` graphs at 0.61–0.73× of 1 there.
 */
export function defaultThreads(backend: BackendName): number {
  return backend === "node" ? NODE_DEFAULT_THREADS : 1;
}

export async function openBackend(
  checkpointDir: string,
  name: BackendName,
  options: { threads?: number; spinning?: boolean; chromium?: string; browser?: Browser } = {},
): Promise<EngineBackend> {
  if (name === "node") {
    const loaded = await loadNodeCheckpoint(checkpointDir, {
      threads: options.threads,
      spinning: options.spinning,
    });
    const decode = (ids: readonly number[]) => loaded.tokenizer.decode(ids);
    return {
      name,
      manifest: loaded.model.manifest,
      stopIds: loaded.stopIds,
      adapter: `cpu threads=${options.threads ?? NODE_DEFAULT_THREADS}`,
      graphs: chooseGraphVariant(loaded.model.manifest, { backend: "node", shaderF16: false }),
      encode: async (texts) => texts.map((text) => loaded.tokenizer.encodePrompt(text)),
      generate: (requests, config) => generateBatch(loaded.model, requests, config, decode),
      generateSweep: (requests, config, rs) =>
        generateSweep(loaded.model, requests, config, rs, decode),
      encodePairs: async (requests, bos) =>
        requests.map((r) => encodePair(loaded.tokenizer, loaded.model.manifest.tokens, r, bos)),
      loglikelihood: (pairs, config) => scoreLoglikelihood(loaded.model, pairs, config),
      loglikelihoodSweep: (pairs, config, rs) =>
        scoreLoglikelihoodSweep(loaded.model, pairs, config, rs),
      close: async () => {},
    };
  }
  const engine = await BrowserEngine.open(checkpointDir, {
    backend: name,
    threads: options.threads ?? defaultThreads(name),
    spinning: options.spinning,
    chromium: options.chromium,
    browser: options.browser,
  });
  return {
    name,
    manifest: engine.manifest,
    stopIds: stopIdsOf(engine.manifest.tokens),
    adapter:
      name === "webgpu"
        ? `webgpu ${engine.report.adapter}`
        : `wasm threads=${engine.report.threads}`,
    graphs: engine.graphs,
    encode: (texts) => engine.encode(texts),
    generate: (requests, config) => engine.generate(requests, config),
    generateSweep: (requests, config, rs) => engine.generateSweep(requests, config, rs),
    encodePairs: (requests, bos) => engine.encodePairs(requests, bos),
    loglikelihood: (pairs, config) => engine.loglikelihood(pairs, config),
    loglikelihoodSweep: (pairs, config, rs) => engine.loglikelihoodSweep(pairs, config, rs),
    close: () => engine.close(),
  };
}
