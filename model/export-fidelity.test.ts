import { describe, expect, it } from "vitest";
import type { NodeWebGpu } from "../runner/engine/node-webgpu.ts";
import { chooseF16FidelityBackend } from "./export-fidelity.ts";

const adapter = (facts: Partial<NodeWebGpu>): NodeWebGpu => ({
  adapter: "nvidia ada NVIDIA GeForce RTX 4090",
  shaderF16: true,
  software: false,
  open: async () => {
    throw new Error("not opened in this test");
  },
  ...facts,
});

describe("where the export measures fp16-compute graphs (--f16-fidelity-on)", () => {
  it("auto: a hardware adapter with shader-f16, else onnxruntime-node", () => {
    const gpu = adapter({});
    expect(chooseF16FidelityBackend("auto", gpu)).toBe(gpu);
    // lavapipe computes real fp16, but a 1B model's gate would take days on a CPU.
    expect(chooseF16FidelityBackend("auto", adapter({ software: true }))).toBeNull();
    expect(chooseF16FidelityBackend("auto", adapter({ shaderF16: false }))).toBeNull();
    expect(chooseF16FidelityBackend("auto", { unavailable: "no Vulkan adapter" })).toBeNull();
  });

  it("webgpu: any adapter with shader-f16, and a clear refusal without one", () => {
    const lavapipe = adapter({ adapter: "mesa software llvmpipe", software: true });
    expect(chooseF16FidelityBackend("webgpu", lavapipe)).toBe(lavapipe);
    expect(() =>
      chooseF16FidelityBackend(
        "webgpu",
        adapter({ adapter: "google swiftshader", shaderF16: false }),
      ),
    ).toThrow(
      "--f16-fidelity-on webgpu: the WebGPU adapter (google swiftshader) lacks shader-f16; run on a machine with a GPU (or Mesa's lavapipe ≥ 23), or use --f16-fidelity-on node",
    );
    expect(() =>
      chooseF16FidelityBackend("webgpu", { unavailable: "the webgpu package does not load" }),
    ).toThrow("--f16-fidelity-on webgpu: the webgpu package does not load;");
  });

  it("node: onnxruntime-node, whatever the machine has", () => {
    expect(chooseF16FidelityBackend("node", adapter({}))).toBeNull();
  });
});
