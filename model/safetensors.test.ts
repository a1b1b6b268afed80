import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TensorError, WeightsFileError } from "./errors.ts";
import { openSafetensors } from "./safetensors.ts";
import { encodeSafetensors, writeSafetensors } from "./testing/write-safetensors.ts";

const dir = mkdtempSync(join(tmpdir(), "evals-st-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const values = Float32Array.from([1, -2.5, 0.333251953125, 65504, -0.0001220703125, 3]);

describe("safetensors reader", () => {
  it("reads F32, F16 and BF16 (exactly representable values round-trip)", () => {
    const path = join(dir, "dtypes.safetensors");
    writeSafetensors(path, {
      a: { data: values, shape: [2, 3] },
      b: { data: values, shape: [6], dtype: "F16" },
      c: { data: Float32Array.from([1, -2.5, 0.375, 3]), shape: [4], dtype: "BF16" },
    });
    const st = openSafetensors(path);
    expect(Array.from(st.read("a", [2, 3]))).toEqual(Array.from(values));
    expect(Array.from(st.read("b"))).toEqual(Array.from(values));
    expect(Array.from(st.read("c"))).toEqual([1, -2.5, 0.375, 3]);
  });

  it("reads sharded checkpoints through model.safetensors.index.json", () => {
    writeSafetensors(join(dir, "model-00001-of-00002.safetensors"), {
      x: { data: values, shape: [6] },
    });
    writeSafetensors(join(dir, "model-00002-of-00002.safetensors"), {
      y: { data: values.slice(0, 2), shape: [2] },
    });
    const index = join(dir, "model.safetensors.index.json");
    writeFileSync(
      index,
      JSON.stringify({
        weight_map: {
          x: "model-00001-of-00002.safetensors",
          y: "model-00002-of-00002.safetensors",
        },
      }),
    );
    const st = openSafetensors(index);
    expect(Array.from(st.read("y"))).toEqual([1, -2.5]);
    expect(st.tensors.size).toBe(2);
  });

  it("names the file when it is missing or truncated", () => {
    expect(() => openSafetensors(join(dir, "absent.safetensors"))).toThrow(/not found: .*absent/);
    const path = join(dir, "truncated.safetensors");
    writeSafetensors(path, { a: { data: values, shape: [6] } });
    truncateSync(path, readFileSync(path).length - 4);
    expect(() => openSafetensors(path)).toThrow(WeightsFileError);
    expect(() => openSafetensors(path)).toThrow(/tensor a .*truncated/);
    writeFileSync(join(dir, "tiny.safetensors"), "abc");
    expect(() => openSafetensors(join(dir, "tiny.safetensors"))).toThrow(/truncated/);
  });

  it("refuses a header whose offsets disagree with the shape", () => {
    const bytes = encodeSafetensors({ a: { data: values, shape: [6] } });
    const text = new TextDecoder().decode(bytes).replace('"shape":[6]', '"shape":[5]');
    const path = join(dir, "lying.safetensors");
    writeFileSync(path, new TextEncoder().encode(text));
    expect(() => openSafetensors(path)).toThrow(/tensor a claims bytes 0\.\.24 .*header lies/);
  });

  it("names missing tensors, wrong shapes and unsupported dtypes", () => {
    const path = join(dir, "misc.safetensors");
    writeSafetensors(path, {
      a: { data: values, shape: [6] },
      d: { data: values, shape: [6], dtype: "F64" },
    });
    const st = openSafetensors(path);
    expect(() => st.read("missing.weight")).toThrow(TensorError);
    expect(() => st.read("missing.weight")).toThrow(/missing\.weight is missing/);
    expect(() => st.read("a", [3, 2])).toThrow(/tensor a .*shape \[6\] .*\[3,2\]/);
    expect(() => st.read("d")).toThrow(/dtype F64/);
  });
});
