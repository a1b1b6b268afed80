// Plain vs fused-operator graphs (`evals export --operators fused`): decode step time of the same
// `small` weights on onnxruntime-node and onnxruntime-web's WASM backend, 1 thread each, settings
// interleaved so that load on a shared machine hits them alike. Each round prefills a batch of
// --prompt-tokens (not timed) and times --steps one-token steps on that cache (median). On node the
// fused graphs run twice: with caches that grow per step, and decoding in place
// (GroupQueryAttention on buffers bound as past and present, RecurrentModel.reserveDecode).
// --webgpu adds the fused graphs on onnxruntime-web's WebGPU EP in headless Chromium, in place
// (page-owned GPU buffers) vs growing caches in the same sessions; without a GPU Chromium's
// adapter is SwiftShader, a CPU implementation of WebGPU, and the line says so: those figures
// compare the two cache layouts on that adapter, not GPU speed. The WebGPU steps run on a cache
// of zeros (one untimed step moves it to the GPU): a 900-token prefill on SwiftShader takes many
// minutes.
// --webgpu-node adds the same three settings as node on onnxruntime-web's WebGPU provider inside
// Node, on Dawn's bindings and whatever Vulkan adapter the machine has (a GPU's driver, or Mesa's
// lavapipe on a CPU, which the line then names): a GPU figure without Chromium's GPU flags.
// --fp16 exports fp16 weights, which adds the fp16-compute graphs (`webgpu_f16`): --webgpu-node
// then also times them, beside the default graphs on the same weights.
// Usage: npx tsx bench/fused.ts [--prompt-tokens 64] [--steps 8] [--r 4] [--batch 1] [--rounds 3] [--quant q4 | --fp16] [--no-wasm] [--no-node] [--webgpu] [--webgpu-node]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { readCheckpoint } from "../model/checkpoint.ts";
import { exportModel } from "../model/export-model.ts";
import type { Manifest } from "../model/manifest.ts";
import { openWasmModelInNode } from "../model/testing/wasm-in-node.ts";
import { launchChromium } from "../runner/browser/chromium.ts";
import { openNodeModel } from "../runner/engine/node-sessions.ts";
import { nodeWebGpu } from "../runner/engine/node-webgpu.ts";
import type { RecurrentModel } from "../runner/engine/recurrent-model.ts";
import { startStaticServer } from "../runner/serve/static-server.ts";
import type { StepTiming } from "./webgpu-steps-page.ts";

const { values } = parseArgs({
  options: {
    "prompt-tokens": { type: "string", default: "64" },
    steps: { type: "string", default: "8" },
    r: { type: "string", default: "4" },
    batch: { type: "string", default: "1" },
    rounds: { type: "string", default: "3" },
    quant: { type: "string" },
    fp16: { type: "boolean", default: false },
    "no-wasm": { type: "boolean", default: false },
    "no-node": { type: "boolean", default: false },
    webgpu: { type: "boolean", default: false },
    "webgpu-node": { type: "boolean", default: false },
  },
});
const PROMPT = Number(values["prompt-tokens"]);
const STEPS = Number(values.steps);
const R = Number(values.r);
const BATCH = Number(values.batch);
const ROUNDS = Number(values.rounds);
const dtype =
  values.quant === "q4" || values.quant === "q8" ? values.quant : values.fp16 ? "fp16" : "fp32";

const dir = mkdtempSync(join(tmpdir(), "evals-bench-fused-"));
const exported = async (operators: "plain" | "fused") => {
  const out = join(dir, operators);
  await exportModel({ random: "small", out, split: [2, 4, 2], seed: 1, dtype, operators });
  return readCheckpoint(out);
};
const checkpoints = { plain: await exported("plain"), fused: await exported("fused") };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const filled = (n: number, value: (i: number) => bigint) =>
  BigInt64Array.from({ length: n }, (_, i) => value(i));

/** Median seconds of a one-token step after a PROMPT-token prefill of BATCH rows. */
async function stepSeconds(model: RecurrentModel, inPlace: boolean): Promise<number> {
  const prefill = {
    batch: BATCH,
    inputIds: filled(BATCH * PROMPT, (i) => BigInt(3 + ((i * 31) % 4000))),
    attentionMask: filled(BATCH * PROMPT, () => 1n),
    positionIds: filled(BATCH * PROMPT, (i) => BigInt(i % PROMPT)),
  };
  let cache = model.newCache(BATCH, "full", R);
  await model.step(prefill, R, cache, 1);
  if (inPlace) cache = model.reserveDecode(cache, PROMPT + STEPS) ?? cache;
  const times: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    const total = PROMPT + s + 1;
    const started = performance.now();
    await model.step(
      {
        batch: BATCH,
        inputIds: filled(BATCH, (b) => BigInt(5 + b)),
        attentionMask: filled(BATCH * total, () => 1n),
        positionIds: filled(BATCH, () => BigInt(total - 1)),
      },
      R,
      cache,
      1,
    );
    times.push((performance.now() - started) / 1000);
  }
  model.releaseCache(cache);
  return median(times);
}

console.log(
  `small 2,4,2 ${dtype}, r = ${R}, batch ${BATCH}, ${PROMPT} cached tokens, median of ${STEPS} steps per round, median of ${ROUNDS} rounds, 1 thread`,
);
try {
  const backends = [
    ...(["node", "wasm"] as const).filter((b) => !values[`no-${b}`]),
    ...(values["webgpu-node"] ? (["webgpu-node"] as const) : []),
  ];
  for (const backend of backends) {
    const gpu = backend === "webgpu-node" ? await nodeWebGpu() : null;
    if (gpu && "unavailable" in gpu) throw new Error(`--webgpu-node: ${gpu.unavailable}`);
    const open = (which: "plain" | "fused", decodeInPlace: boolean) =>
      backend === "node"
        ? openNodeModel(checkpoints[which], { threads: 1, decodeInPlace })
        : gpu
          ? gpu.open(checkpoints[which], { decodeInPlace })
          : openWasmModelInNode(checkpoints[which], { threads: 1 });
    const settings: { name: string; model: RecurrentModel; inPlace: boolean }[] = [
      { name: "plain", model: await open("plain", false), inPlace: false },
      { name: "fused", model: await open("fused", false), inPlace: false },
    ];
    if (backend !== "wasm") {
      settings.push({ name: "fused in place", model: await open("fused", true), inPlace: true });
    }
    if (gpu && dtype === "fp16") {
      const model = await gpu.open(checkpoints.plain, { variant: "webgpu_f16" });
      settings.push({ name: "fp16 compute", model, inPlace: false });
    }
    for (const s of settings) await stepSeconds(s.model, s.inPlace); // warm-up
    const times = settings.map(() => [] as number[]);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, s] of settings.entries()) times[i].push(await stepSeconds(s.model, s.inPlace));
    }
    const plain = median(times[0]);
    const cells = settings.map((s, i) => {
      const t = median(times[i]);
      return `${s.name} ${(t * 1000).toFixed(1)} ms/step${i === 0 ? "" : ` (${(plain / t).toFixed(2)}× plain's speed)`}`;
    });
    console.log(`${backend.padEnd(5)} ${cells.join("  ")}`);
    if (gpu) {
      console.log(
        `  (onnxruntime-web's WebGPU provider in Node on Dawn: ${gpu.adapter}${gpu.software ? ", a CPU implementation of WebGPU: not GPU speed" : ""})`,
      );
    }
  }
  if (values.webgpu) await webgpuSteps();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** Fused graphs on WebGPU in Chromium: in place vs growing caches, interleaved per round. */
async function webgpuSteps(): Promise<void> {
  const script = join(dir, "webgpu-steps-page.js");
  await build({
    entryPoints: [fileURLToPath(new URL("./webgpu-steps-page.ts", import.meta.url))],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "chrome120",
    outfile: script,
    logLevel: "silent",
  });
  const server = await startStaticServer(script);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => "benchSteps" in globalThis, null, { timeout: 30_000 });
    type Bench = {
      load(url: string, manifest: Manifest): Promise<{ decodesInPlace: boolean }>;
      stepMs(t: StepTiming): Promise<number[]>;
    };
    const url = server.addCheckpoint("fused", checkpoints.fused.dir);
    const loaded = await page.evaluate(
      ([u, m]) => (globalThis as unknown as { benchSteps: Bench }).benchSteps.load(u, m),
      [url, checkpoints.fused.manifest] as const,
    );
    if (!loaded.decodesInPlace) throw new Error("the page does not decode these graphs in place");
    const probe = await page.evaluate(async () => {
      const gpu = (
        navigator as unknown as {
          gpu: {
            requestAdapter(): Promise<{
              info?: { vendor: string; architecture: string; description: string };
            } | null>;
          };
        }
      ).gpu;
      const info = (await gpu.requestAdapter())?.info;
      return info
        ? [info.vendor, info.architecture, info.description].filter(Boolean).join(" ")
        : "";
    });
    const adapter = /swiftshader/i.test(probe)
      ? `SwiftShader (a CPU implementation of WebGPU: not GPU speed): ${probe}`
      : probe;
    const seconds = async (inPlace: boolean) => {
      const timing: StepTiming = {
        prompt: PROMPT,
        steps: STEPS,
        recurrences: R,
        batch: BATCH,
        inPlace,
      };
      const ms = await page.evaluate(
        (t) => (globalThis as unknown as { benchSteps: Bench }).benchSteps.stepMs(t),
        timing,
      );
      console.log(
        `  webgpu ${inPlace ? "in place" : "growing"}: ${ms.map((x) => x.toFixed(0)).join(", ")} ms`,
      );
      return median(ms) / 1000;
    };
    // Warm-up: compiles the decode kernels of both layouts.
    await seconds(true);
    await seconds(false);
    const times = { inPlace: [] as number[], growing: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      times.inPlace.push(await seconds(true));
      times.growing.push(await seconds(false));
    }
    const growing = median(times.growing);
    const inPlace = median(times.inPlace);
    console.log(`webgpu adapter: ${adapter}`);
    console.log(
      `webgpu fused growing ${(growing * 1000).toFixed(1)} ms/step  fused in place ${(inPlace * 1000).toFixed(1)} ms/step (${(growing / inPlace).toFixed(2)}× growing's speed)`,
    );
  } finally {
    await browser.close();
    await server.close();
  }
}
