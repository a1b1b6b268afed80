// Default checkpoint names: the source, the split and the adapter, as the issue spells them.
import { describe, expect, it } from "vitest";
import { adapterLabel, defaultCheckpointName, splitLabel } from "./checkpoint-name.ts";

const layers = (p: number, b: number, c: number) => ({
  prelude: Array.from({ length: p }, (_, i) => i),
  block: Array.from({ length: b }, (_, i) => p + i),
  coda: Array.from({ length: c }, (_, i) => p + b + i),
});

describe("defaultCheckpointName", () => {
  it("names source, split and adapter", () => {
    expect(
      defaultCheckpointName("stories260k", layers(1, 3, 1), { init: "random", std: 0.1, seed: 0 }),
    ).toBe("stories260k 1·3·1 random-s0");
    expect(
      defaultCheckpointName("org/model", layers(2, 4, 2), { init: "identity", std: null, seed: 3 }),
    ).toBe("org/model 2·4·2 identity");
    expect(defaultCheckpointName("stories260k", layers(3, 0, 2), null)).toBe("stories260k 3·0·2");
  });

  it("labels the parts on their own", () => {
    expect(splitLabel(layers(1, 3, 1))).toBe("1·3·1");
    expect(adapterLabel({ init: "trained", std: null, seed: null })).toBe("trained");
    expect(adapterLabel(null)).toBeNull();
  });
});
