// The page side of the browser engine: loads onnxruntime-web for the requested backend, opens a
// checkpoint served over HTTP and runs the same generation code as Node. The runner drives it
// through `window.evalsEngine` (see runner/browser/browser-engine.ts).
import type * as Ort from "onnxruntime-common";
import { graphSet } from "../../model/graph-sets.ts";
import type { GraphVariantName, Manifest } from "../../model/manifest.ts";
import {
  type GenerationConfig,
  type GenerationRequest,
  type GenerationResult,
  generateBatch,
  generateSweep,
  type SweepGeneration,
} from "../engine/generate.ts";
import { checkGraphContract } from "../engine/graph-contract.ts";
import {
  type EncodedPair,
  encodePair,
  type LoglikelihoodConfig,
  type LoglikelihoodRequest,
  type LoglikelihoodResult,
  scoreLoglikelihood,
  scoreLoglikelihoodSweep,
} from "../engine/loglikelihood.ts";
import { kvTypeOf, RecurrentModel } from "../engine/recurrent-model.ts";
import { PromptTokenizer } from "../engine/tokenizer.ts";
import { type GpuDevice, webGpuKvCopier } from "./webgpu-kv.ts";

export type BrowserBackend = "wasm" | "webgpu";

export interface LoadOptions {
  backend: BrowserBackend;
  threads: number;
  /** Whether idle WASM pool threads busy-wait (ORT's default); see node-sessions.ts. */
  spinning?: boolean;
  /** The graph set to open: null (default graphs) or a variant of the manifest. */
  variant?: GraphVariantName | null;
  /**
   * WebGPU: decode one token per step into KV buffers the page reserves, bound as past and present
   * (fused-operator graphs only; default true). False: caches that grow per step.
   */
  decodeInPlace?: boolean;
  /** KV slots an in-place decode reserves beyond the prompt at first (default 256). */
  decodeHeadroom?: number;
}

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

/** The ORT build each backend needs; each loads its own wasm file from the same folder. */
const ORT_ENTRY: Record<BrowserBackend, string> = {
  wasm: "/ort/ort.wasm.min.mjs",
  webgpu: "/ort/ort.webgpu.min.mjs",
};

let model: RecurrentModel | null = null;
let tokenizer: PromptTokenizer | null = null;

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

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
  const graphs = graphSet(manifest, variant);
  // A reload (the fallback from a variant that failed its numeric check) frees the old sessions.
  await unload();
  const ort = (await import(/* @vite-ignore */ ORT_ENTRY[options.backend])) as typeof Ort & {
    env: { wasm: { wasmPaths: string; numThreads: number }; webgpu: { device?: GpuDevice } };
  };
  ort.env.wasm.wasmPaths = "/ort/";
  ort.env.wasm.numThreads = options.threads;
  const deviceOutputs = (graph: "prelude" | "block" | "coda") => {
    if (options.backend !== "webgpu") return undefined;
    // State, e and KV stay on the GPU between the r block calls and between tokens; only the
    // logits come back.
    const names: Record<string, "gpu-buffer"> = {};
    const layers = manifest.layers[graph].length;
    for (let i = 0; i < layers; i++) {
      names[`present.${i}.key`] = "gpu-buffer";
      names[`present.${i}.value`] = "gpu-buffer";
    }
    if (graph === "prelude") names.e = "gpu-buffer";
    if (graph === "block") names.state_out = "gpu-buffer";
    return names;
  };
  const open = async (graph: "prelude" | "block" | "coda") => {
    const file = graphs[graph];
    if (!file) return null;
    const bytes = await fetchBytes(`${checkpointUrl}/${file.file}`);
    // The weights go by URL: onnxruntime-web fetches them (streaming files above 1 GB into one
    // preallocated buffer), copies each tensor into its heap and drops the file, so the page
    // never holds a second copy of its own.
    const externalData = file.externalData
      ? [{ path: file.externalData.file, data: `${checkpointUrl}/${file.externalData.file}` }]
      : undefined;
    return ort.InferenceSession.create(bytes, {
      executionProviders: [options.backend],
      graphOptimizationLevel: "all",
      externalData,
      preferredOutputLocation: deviceOutputs(graph),
      extra: { session: { intra_op: { allow_spinning: options.spinning ? "1" : "0" } } },
    } as Ort.InferenceSession.SessionOptions);
  };
  // One at a time: the WebGPU EP refuses to create two sessions concurrently.
  const prelude = await open("prelude");
  const block = await open("block");
  const coda = await open("coda");
  const sessions = { prelude: prelude!, block, coda: coda! };
  checkGraphContract(manifest, sessions, variant);
  // The WebGPU EP shares the page's buffers between past and present; the WASM backend copies
  // them into and out of its heap (RecurrentModelOptions.bindsOutputsInPlace). The fp16 variant's
  // graphs use plain operators.
  const device = options.backend === "webgpu" ? ort.env.webgpu.device : undefined;
  model = new RecurrentModel(ort, manifest, sessions, kvTypeOf(manifest, variant), {
    bindsOutputsInPlace:
      device !== undefined && variant === null && options.decodeInPlace !== false,
    deviceKv: device ? webGpuKvCopier(ort, device) : undefined,
    decodeHeadroom: options.decodeHeadroom,
  });
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
    threads: ort.env.wasm.numThreads,
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
