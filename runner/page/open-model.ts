// Opens a checkpoint's graphs in the page with onnxruntime-web on WASM or WebGPU: the sessions,
// checked against the graph contract, and the RecurrentModel that drives them. The engine page
// (engine-page.ts) and the WebGPU decode bench's page both start here.
import type * as Ort from "onnxruntime-common";
import { graphSet } from "../../model/graph-sets.ts";
import type { GraphVariantName, Manifest } from "../../model/manifest.ts";
import { checkGraphContract } from "../engine/graph-contract.ts";
import { kvTypeOf, RecurrentModel } from "../engine/recurrent-model.ts";
import { type GpuDevice, webGpuKvCopier } from "./webgpu-kv.ts";

export type BrowserBackend = "wasm" | "webgpu";

export interface PageModelOptions {
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

export type PageOrt = typeof Ort & {
  env: { wasm: { wasmPaths: string; numThreads: number }; webgpu: { device?: GpuDevice } };
};

/** The ORT build each backend needs; each loads its own wasm file from the same folder. */
const ORT_ENTRY: Record<BrowserBackend, string> = {
  wasm: "/ort/ort.wasm.min.mjs",
  webgpu: "/ort/ort.webgpu.min.mjs",
};

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Where a checkpoint's graph files come from: its HTTP folder in a page, its directory in Node. */
export interface GraphFiles {
  bytes(file: string): Promise<Uint8Array>;
  /** What onnxruntime-web's `externalData` takes for a weights file: a URL it fetches, or bytes. */
  externalData(file: string): Promise<string | Uint8Array>;
}

/**
 * A checkpoint served over HTTP. The weights go by URL: onnxruntime-web fetches them (streaming
 * files above 1 GB into one preallocated buffer), copies each tensor into its heap and drops the
 * file, so the page never holds a second copy of its own.
 */
function servedFiles(checkpointUrl: string): GraphFiles {
  return {
    bytes: (file) => fetchBytes(`${checkpointUrl}/${file}`),
    externalData: async (file) => `${checkpointUrl}/${file}`,
  };
}

export async function openPageModel(
  checkpointUrl: string,
  manifest: Manifest,
  options: PageModelOptions,
): Promise<{ model: RecurrentModel; ort: PageOrt; threads: number }> {
  const ort = (await import(/* @vite-ignore */ ORT_ENTRY[options.backend])) as PageOrt;
  ort.env.wasm.wasmPaths = "/ort/";
  return openModelWith(ort, servedFiles(checkpointUrl), manifest, options);
}

/**
 * The sessions and RecurrentModel of `openPageModel` on an onnxruntime-web module the caller has
 * loaded and configured: the page's, or Node's on Dawn's WebGPU (runner/engine/node-webgpu.ts).
 */
export async function openModelWith(
  ort: PageOrt,
  files: GraphFiles,
  manifest: Manifest,
  options: PageModelOptions,
): Promise<{ model: RecurrentModel; ort: PageOrt; threads: number }> {
  const variant = options.variant ?? null;
  const graphs = graphSet(manifest, variant);
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
    const bytes = await files.bytes(file.file);
    const externalData = file.externalData
      ? [{ path: file.externalData.file, data: await files.externalData(file.externalData.file) }]
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
  const model = new RecurrentModel(ort, manifest, sessions, kvTypeOf(manifest, variant), {
    bindsOutputsInPlace:
      device !== undefined && variant === null && options.decodeInPlace !== false,
    deviceKv: device ? webGpuKvCopier(ort, device) : undefined,
    decodeHeadroom: options.decodeHeadroom,
  });
  return { model, ort, threads: ort.env.wasm.numThreads };
}
