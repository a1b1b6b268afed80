import { describe, expect, it } from "vitest";
import { SurgeryError } from "./errors.ts";
import { randomLlamaSource } from "./random.ts";
import { referenceLogits } from "./reference.ts";
import {
  adapterStd,
  layersForSplit,
  makeAdapter,
  parseLayerSpec,
  parseSplit,
  recurrentFromLlama,
} from "./surgery.ts";

describe("layer selection", () => {
  it("parses --split and refuses anything but three non-negative integers", () => {
    expect(parseSplit("4,6,4")).toEqual([4, 6, 4]);
    expect(parseSplit(" 1, 0 ,2")).toEqual([1, 0, 2]);
    for (const bad of ["4,6", "4,6,4,1", "4,-1,4", "a,b,c", "1.5,2,2", ""]) {
      expect(() => parseSplit(bad), bad).toThrow(SurgeryError);
    }
  });

  it("parses --layers with ranges, lists and empty groups", () => {
    expect(parseLayerSpec("0-3:6-11:12-15")).toEqual({
      prelude: [0, 1, 2, 3],
      block: [6, 7, 8, 9, 10, 11],
      coda: [12, 13, 14, 15],
    });
    expect(parseLayerSpec("0,2:1:")).toEqual({ prelude: [0, 2], block: [1], coda: [] });
    expect(() => parseLayerSpec("0-3:4-7")).toThrow(/three groups prelude:block:coda/);
    expect(() => parseLayerSpec("3-0:1:2")).toThrow(/range 3-0 runs backwards/);
    expect(() => parseLayerSpec("x:1:2")).toThrow(/"x" is not a layer/);
  });

  it("takes the first P, the B before the coda and the last C layers, dropping the rest", () => {
    expect(layersForSplit([4, 6, 4], 16)).toEqual(parseLayerSpec("0-3:6-11:12-15"));
    expect(layersForSplit([1, 1, 1], 4)).toEqual({ prelude: [0], block: [2], coda: [3] });
    expect(layersForSplit([2, 0, 2], 4)).toEqual({ prelude: [0, 1], block: [], coda: [2, 3] });
  });

  it("refuses a split larger than the model and one that keeps nothing", () => {
    expect(() => layersForSplit([4, 6, 4], 12)).toThrow(
      "--split 4,6,4 needs 14 layers but the model has 12; choose P+B+C ≤ 12",
    );
    expect(() => layersForSplit([0, 0, 0], 12)).toThrow(/keeps no layers/);
  });
});

describe("recurrentFromLlama", () => {
  const tiny = randomLlamaSource("tiny", 1);
  const ids = [1, 17, 300, 42, 9, 511, 3];

  it("keeps every layer in the prelude when no split is given (non-recurrent)", () => {
    const plain = recurrentFromLlama(tiny);
    expect(plain.layers).toEqual({ prelude: [0, 1, 2, 3], block: [], coda: [] });
    expect(plain.adapter).toBeNull();
    expect(plain.tiedEmbeddings).toBe(true);
    expect(plain.head).toBe(plain.embed);
  });

  it("with the identity adapter equals the source at r = 1, and r matters for a random one", () => {
    const plain = referenceLogits(recurrentFromLlama(tiny), ids, { recurrences: 1 });
    const identity = recurrentFromLlama(tiny, { split: [1, 2, 1], adapter: "identity" });
    expect(referenceLogits(identity, ids, { recurrences: 1 })).toEqual(plain);
    const random = recurrentFromLlama(tiny, { split: [1, 2, 1], adapter: "random", seed: 9 });
    const r1 = referenceLogits(random, ids, { recurrences: 1 });
    expect(r1).not.toEqual(plain);
    expect(referenceLogits(random, ids, { recurrences: 3 })).not.toEqual(r1);
  });

  it("reads the layers named by --layers, in the order given", () => {
    const weights = recurrentFromLlama(tiny, { layers: parseLayerSpec("0:2,1:3"), seed: 1 });
    expect(weights.block[0].q).toEqual(tiny.readLayer(2).q);
    expect(weights.block[1].q).toEqual(tiny.readLayer(1).q);
    expect(weights.coda[0].down).toEqual(tiny.readLayer(3).down);
  });

  it("names the problem with bad surgery options", () => {
    expect(() => recurrentFromLlama(tiny, { split: [3, 2, 1] })).toThrow(/needs 6 layers/);
    expect(() => recurrentFromLlama(tiny, { layers: parseLayerSpec("0:4:1") })).toThrow(
      "--layers names layer 4 but the model has layers 0..3",
    );
    expect(() =>
      recurrentFromLlama(tiny, { split: [1, 1, 1], layers: parseLayerSpec("0:1:2") }),
    ).toThrow(/either --split or --layers/);
  });
});

describe("makeAdapter", () => {
  const h = 48;

  it("identity is [0 | I] over [state ; e]", () => {
    const adapter = makeAdapter(h, "identity", 0);
    for (let row = 0; row < h; row++) {
      for (let col = 0; col < 2 * h; col++) {
        expect(adapter[row * 2 * h + col]).toBe(col === h + row ? 1 : 0);
      }
    }
  });

  it("random is a seeded truncated normal with std sqrt(2/(5h)), cut at 3σ", () => {
    const std = adapterStd(h);
    expect(std).toBeCloseTo(Math.sqrt(2 / (5 * h)), 12);
    const adapter = makeAdapter(h, "random", 7);
    expect(makeAdapter(h, "random", 7)).toEqual(adapter);
    expect(makeAdapter(h, "random", 8)).not.toEqual(adapter);
    let sum = 0;
    let squares = 0;
    for (const v of adapter) {
      expect(Math.abs(v)).toBeLessThanOrEqual(3 * std * (1 + 1e-6));
      sum += v;
      squares += v * v;
    }
    const n = adapter.length;
    expect(Math.abs(sum / n)).toBeLessThan(0.05 * std);
    // A normal truncated at ±3σ has std 0.9866σ.
    expect(Math.sqrt(squares / n - (sum / n) ** 2) / std).toBeCloseTo(0.9866, 1);
  });
});
