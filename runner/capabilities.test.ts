// Which backend a runner declares and which one each checkpoint's page opens: `auto` on a hardware
// WebGPU adapter runs i8 checkpoints (int8 GEMMs WebGPU has no kernel for) on WASM pages.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCheckpoint } from "../model/checkpoint.ts";
import { exportModel } from "../model/export-model.ts";
import type { Dtype, Manifest } from "../model/manifest.ts";
import { stories260kDir } from "../model/testing/stories.ts";
import { BackendUnavailableError } from "./browser/browser-engine.ts";
import { backendForCheckpoint, backendFromProbe } from "./capabilities.ts";
import type { WebGpuProbe } from "./page/engine-page.ts";

const work = mkdtempSync(join(tmpdir(), "evals-capabilities-"));
/** Manifests as `evals export` writes them, per dtype. */
const manifests = new Map<Dtype, Manifest>();

beforeAll(async () => {
  for (const dtype of ["fp32", "q4", "i8"] as const) {
    const out = join(work, dtype);
    await exportModel({ from: stories260kDir, out, split: [1, 3, 1], seed: 5, dtype });
    manifests.set(dtype, (await readCheckpoint(out)).manifest);
  }
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

// What the engine page's probe reports (runner/page/engine-page.ts) on a GPU and on SwiftShader.
const HARDWARE: WebGpuProbe = {
  available: true,
  fallback: false,
  description: "nvidia hopper",
  maxBufferSize: 2 ** 32,
  shaderF16: true,
};
const SOFTWARE: WebGpuProbe = { ...HARDWARE, fallback: true, description: "google swiftshader" };
const NONE: WebGpuProbe = {
  available: false,
  fallback: false,
  description: null,
  maxBufferSize: null,
  shaderF16: false,
};

describe("--backend auto on a hardware WebGPU adapter", () => {
  const chosen = backendFromProbe("auto", HARDWARE);

  it("runs WebGPU and declares WASM too", () => {
    expect(chosen.backend).toBe("webgpu");
    expect(chosen.capabilities.backends).toEqual(["webgpu", "wasm"]);
    expect(chosen.capabilities.max_buffer_bytes).toBe(2 ** 32);
    expect(chosen.reason).toMatch(/i8 checkpoints .* on wasm/);
  });

  it("opens an i8 checkpoint on WASM, saying why, and fp32 and q4 on WebGPU", () => {
    const i8 = manifests.get("i8")!;
    expect(i8.quantization?.linear).toBe("MatMulInteger");
    const forI8 = backendForCheckpoint(chosen, i8);
    expect(forI8.backend).toBe("wasm");
    expect(forI8.reason).toMatch(/no kernel for this checkpoint's int8 GEMMs/);
    // q4's MatMulNBits has a WebGPU kernel.
    for (const dtype of ["fp32", "q4"] as const) {
      expect(backendForCheckpoint(chosen, manifests.get(dtype)!)).toEqual({
        backend: "webgpu",
        reason: null,
      });
    }
  });

  it("opens i8 exports of before (DynamicQuantizeMatMul) on WASM too", () => {
    const i8 = manifests.get("i8")!;
    const older = { ...i8, quantization: { ...i8.quantization!, linear: "DynamicQuantizeMatMul" } };
    expect(backendForCheckpoint(chosen, older as Manifest).backend).toBe("wasm");
  });
});

describe("other choices keep one backend for every checkpoint", () => {
  it("--backend webgpu runs i8 on WebGPU as asked (its load report says the int8 GEMMs run on the CPU)", () => {
    const chosen = backendFromProbe("webgpu", HARDWARE);
    expect(chosen.capabilities.backends).toEqual(["webgpu"]);
    expect(backendForCheckpoint(chosen, manifests.get("i8")!).backend).toBe("webgpu");
    // A software adapter, asked for by name, is used (and said to be slow).
    expect(backendFromProbe("webgpu", SOFTWARE).reason).toMatch(/software adapter: slow/);
  });

  it("auto on a software adapter or none is WASM for everything", () => {
    for (const probe of [SOFTWARE, NONE]) {
      const chosen = backendFromProbe("auto", probe);
      expect(chosen.capabilities.backends).toEqual(["wasm"]);
      expect(backendForCheckpoint(chosen, manifests.get("fp32")!).backend).toBe("wasm");
      expect(backendForCheckpoint(chosen, manifests.get("i8")!).backend).toBe("wasm");
    }
  });

  it("--backend webgpu without an adapter is refused with the fix", () => {
    expect(() => backendFromProbe("webgpu", NONE)).toThrow(BackendUnavailableError);
    expect(() => backendFromProbe("webgpu", NONE)).toThrow(/use --backend wasm/);
  });
});
