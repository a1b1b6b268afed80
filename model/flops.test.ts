import { describe, expect, it } from "vitest";
import { effectiveParameters, flopsForSample, flopsPerToken } from "./flops.ts";

const manifest = {
  parameters: {
    embedding: 1000,
    prelude: 100,
    adapter: 20,
    block: 300,
    coda: 50,
    head: 1001,
    total: 0,
  },
  layers: { prelude: [0], block: [1, 2, 3], coda: [4] },
  architecture: { num_attention_heads: 2, head_dim: 4 } as never,
};

describe("FLOPs (DESIGN §6)", () => {
  it("follows the per-token formula term by term", () => {
    // 2(100 + 50 + 1001) + 2·4·(300 + 20) + 4·10·2·4·(1 + 1 + 4·3)
    expect(flopsPerToken(manifest, 4, 10)).toBe(2302 + 2560 + 320 * 14);
  });

  it("sums the per-token cost over the sample's context lengths", () => {
    let expected = 0;
    for (let t = 1; t <= 7; t++) expected += flopsPerToken(manifest, 2, t);
    expect(flopsForSample(manifest, 2, 4, 3)).toBe(expected);
  });

  it("ignores r for a non-recurrent model and counts effective parameters", () => {
    const plain = { ...manifest, layers: { prelude: [0, 1], block: [], coda: [] } };
    expect(flopsPerToken(plain, 32, 5)).toBe(flopsPerToken(plain, 1, 5));
    expect(effectiveParameters(manifest, 32)).toBe(100 + 32 * 300 + 50);
  });
});
