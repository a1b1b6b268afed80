// The page side of the browser engine: loads onnxruntime-web for the requested backend, opens a
// checkpoint served over HTTP and runs the same generation code as Node. The runner drives it
// through `window.evalsEngine` (see runner/browser/browser-engine.ts).
import type { GraphVariantName, Manifest } from "../../model/manifest.ts";
import {
  type GenerationConfig,
  type GenerationRequest,
  type GenerationResult,
  generateBatch,
  generateSweep,
  type SweepGeneration,
} from "../engine/generate.ts";
import {
  type EncodedPair,
  encodePair,
  type LoglikelihoodConfig,
  type LoglikelihoodRequest,
  type LoglikelihoodResult,
  scoreLoglikelihood,
  scoreLoglikelihoodSweep,
} from "../engine/loglikelihood.ts";
import type { RecurrentModel } from "../engine/recurrent-model.ts";
import { PromptTokenizer } from "../engine/tokenizer.ts";
import type { BrowserBackend } from "./open-model.ts";
import { openPageModel, type PageModelOptions } from "./open-model.ts";

export type { BrowserBackend };
export type LoadOptions = PageModelOptions;

export interface LoadReport {
  backend: BrowserBackend;
  adapter: string | null;
  /** The WebGPU adapter offers `shader-f16` (false on wasm). */
  shaderF16: boolean;
  /** The graph set the sessions were opened from (null: the default graphs). */
  variant: GraphVariantName | null;
  /** One-token steps write the KV cache in place (RecurrentModel.decodesInPlace). */
  decodesInPlace: boolean;
  threads: number;
  crossOriginIsolated: boolean;
}

let model: RecurrentModel | null = null;
let tokenizer: PromptTokenizer | null = null;

async function fetchJson(url: string): Promise<object> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return response.json();
}

async function adapterInfo(): Promise<{ description: string; shaderF16: boolean } | null> {
  const gpu = (
    navigator as Navigator & {
      gpu?: {
        requestAdapter(): Promise<{
          features: ReadonlySet<string>;
          info?: { vendor: string; architecture: string; description: string };
        } | null>;
      };
    }
  ).gpu;
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter();
  if (!adapter) return null;
  const info = adapter.info;
  const description = info
    ? [info.vendor, info.architecture, info.description].filter(Boolean).join(" ") || "unknown"
    : "unknown";
  return { description, shaderF16: adapter.features.has("shader-f16") };
}

export interface WebGpuProbe {
  available: boolean;
  /** A software adapter (SwiftShader): correct but far slower than WASM. */
  fallback: boolean;
  description: string | null;
  maxBufferSize: number | null;
  /** The adapter offers `shader-f16` (fp16 arithmetic in shaders). */
  shaderF16: boolean;
}

/** What WebGPU this browser offers, for the runner's `--backend auto` and its capabilities. */
async function probeWebGpu(): Promise<WebGpuProbe> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  const adapter = (await gpu?.requestAdapter()) as
    | {
        features: ReadonlySet<string>;
        isFallbackAdapter?: boolean;
        limits: { maxBufferSize: number };
        info?: {
          vendor: string;
          architecture: string;
          description: string;
          isFallbackAdapter?: boolean;
        };
      }
    | null
    | undefined;
  if (!adapter)
    return {
      available: false,
      fallback: false,
      description: null,
      maxBufferSize: null,
      shaderF16: false,
    };
  const info = adapter.info;
  const description = info
    ? [info.vendor, info.architecture, info.description].filter(Boolean).join(" ") || "unknown"
    : "unknown";
  return {
    available: true,
    fallback:
      info?.isFallbackAdapter === true ||
      adapter.isFallbackAdapter === true ||
      /swiftshader/i.test(description),
    description,
    maxBufferSize: adapter.limits.maxBufferSize,
    shaderF16: adapter.features.has("shader-f16"),
  };
}

async function load(
  checkpointUrl: string,
  manifest: Manifest,
  options: LoadOptions,
): Promise<LoadReport> {
  const adapter = options.backend === "webgpu" ? await adapterInfo() : null;
  if (options.backend === "webgpu" && adapter === null) {
    throw new Error("WebGPU is not available in this browser (navigator.gpu has no adapter)");
  }
  const variant = options.variant ?? null;
  // A reload (the fallback from a variant that failed its numeric check) frees the old sessions.
  await unload();
  const opened = await openPageModel(checkpointUrl, manifest, options);
  model = opened.model;
  tokenizer = new PromptTokenizer(
    await fetchJson(`${checkpointUrl}/tokenizer.json`),
    await fetchJson(`${checkpointUrl}/tokenizer_config.json`),
    manifest.tokens,
  );
  return {
    backend: options.backend,
    adapter: adapter?.description ?? null,
    shaderF16: adapter?.shaderF16 ?? false,
    variant,
    decodesInPlace: model.decodesInPlace,
    threads: opened.threads,
    crossOriginIsolated: globalThis.crossOriginIsolated,
  };
}

/** Releases the loaded sessions (their device buffers). */
async function unload(): Promise<void> {
  const sessions = model?.sessions;
  model = null;
  if (!sessions) return;
  for (const session of [sessions.prelude, sessions.block, sessions.coda]) await session?.release();
}

async function generate(
  requests: GenerationRequest[],
  config: GenerationConfig,
): Promise<GenerationResult[]> {
  if (!model || !tokenizer) throw new Error("evalsEngine.load() must be called first");
  const loadedTokenizer = tokenizer;
  return generateBatch(model, requests, config, (ids) => loadedTokenizer.decode(ids));
}

/** Every r of `recurrences` (ascending) from one prefill at the largest (a bundled lease). */
async function sweepGenerate(
  requests: GenerationRequest[],
  config: Omit<GenerationConfig, "recurrences">,
  recurrences: number[],
): Promise<SweepGeneration[]> {
  if (!model || !tokenizer) throw new Error("evalsEngine.load() must be called first");
  const loadedTokenizer = tokenizer;
  return generateSweep(model, requests, config, recurrences, (ids) => loadedTokenizer.decode(ids));
}

function encode(texts: string[]): number[][] {
  if (!tokenizer) throw new Error("evalsEngine.load() must be called first");
  const loadedTokenizer = tokenizer;
  return texts.map((text) => loadedTokenizer.encodePrompt(text));
}

/** lm-eval's `_encode_pair` with this checkpoint's tokenizer. */
function encodePairs(requests: LoglikelihoodRequest[], bos: boolean): EncodedPair[] {
  if (!model || !tokenizer) throw new Error("evalsEngine.load() must be called first");
  const { tokens } = model.manifest;
  const loadedTokenizer = tokenizer;
  return requests.map((request) => encodePair(loadedTokenizer, tokens, request, bos));
}

async function loglikelihood(
  pairs: EncodedPair[],
  config: LoglikelihoodConfig,
): Promise<LoglikelihoodResult[]> {
  if (!model) throw new Error("evalsEngine.load() must be called first");
  return scoreLoglikelihood(model, pairs, config);
}

/** Scores at every r of `recurrences` (ascending), one prefill per context at the largest. */
async function sweepLoglikelihood(
  pairs: EncodedPair[],
  config: Omit<LoglikelihoodConfig, "recurrences">,
  recurrences: number[],
): Promise<LoglikelihoodResult[][]> {
  if (!model) throw new Error("evalsEngine.load() must be called first");
  return scoreLoglikelihoodSweep(model, pairs, config, recurrences);
}

(globalThis as unknown as { evalsEngine: unknown }).evalsEngine = {
  load,
  generate,
  generateSweep: sweepGenerate,
  encode,
  encodePairs,
  loglikelihood,
  loglikelihoodSweep: sweepLoglikelihood,
  probeWebGpu,
};
