// Surgery on a plain OLMo-2 (as the paper retrofits OLMo-2-0425-1B with --split 4,6,4): with the
// identity adapter at r = 1 the recurrent export computes the source OLMo-2 forward.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openNodeModel } from "../runner/engine/node-sessions.ts";
import { readCheckpoint } from "./checkpoint.ts";
import { exportModel } from "./export-model.ts";
import { referenceLogits } from "./reference.ts";
import { loadSourceModel } from "./source.ts";
import { buildRecurrentWeights } from "./surgery.ts";
import { writeOlmo2Fixture } from "./testing/olmo2-fixture.ts";
import { ortLogits, ortLogitsStepwise } from "./testing/ort-logits.ts";
import { maxDifference } from "./testing/raven-fixture.ts";
import { specOlmo2Logits } from "./testing/raven-spec-forward.ts";

const work = mkdtempSync(join(tmpdir(), "evals-olmo2-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const fixture = writeOlmo2Fixture(join(work, "olmo2"));
const prompt = [1, 40, 77, 120, 5, 250, 33, 9, 18, 299];
const source = specOlmo2Logits(fixture.config, fixture.tensors, prompt);

describe("OLMo-2 surgery", () => {
  it("--split 2,2,2 --adapter identity at r = 1 equals the source OLMo-2 forward", async () => {
    const out = join(work, "identity");
    const manifest = await exportModel({
      from: fixture.dir,
      out,
      split: [2, 2, 2],
      adapter: "identity",
    });
    expect(manifest.architecture.flavour).toBe("olmo2");
    expect(manifest.adapter).toEqual({ init: "identity", std: null, seed: null });
    expect(manifest.layers).toEqual({ prelude: [0, 1], block: [2, 3], coda: [4, 5] });
    const model = await openNodeModel(await readCheckpoint(out));
    expect(maxDifference(await ortLogits(model, prompt, 1), source)).toBeLessThan(1e-4);
    expect(maxDifference(await ortLogitsStepwise(model, prompt, 1, 2), source)).toBeLessThan(1e-4);
    const weights = buildRecurrentWeights(loadSourceModel(fixture.dir), {
      split: [2, 2, 2],
      adapter: "identity",
    });
    expect(
      maxDifference(referenceLogits(weights, prompt, { recurrences: 1 }), source),
    ).toBeLessThan(1e-4);
  });

  it("the non-recurrent export equals the source too; a random adapter does not", async () => {
    const out = join(work, "plain");
    await exportModel({ from: fixture.dir, out });
    const model = await openNodeModel(await readCheckpoint(out));
    expect(maxDifference(await ortLogits(model, prompt, 1), source)).toBeLessThan(1e-4);
    // A random adapter mixes in the state: the same split no longer equals the source.
    const random = buildRecurrentWeights(loadSourceModel(fixture.dir), {
      split: [2, 2, 2],
      seed: 1,
    });
    expect(
      maxDifference(referenceLogits(random, prompt, { recurrences: 1 }), source),
    ).toBeGreaterThan(1e-2);
  });
});
