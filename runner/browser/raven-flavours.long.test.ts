// Each raven flavour (written as its authors' converter writes it) runs in headless Chromium on
// onnxruntime-web and generates the spec oracle's greedy tokens: once per flavour on wasm, and one
// pass at r = 2 on WebGPU over one checkpoint per layer flavour (SwiftShader compiles every
// session's kernels again, so kept to the minimum; TinyLlama's graphs are Llama-3.2's operators).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportModel } from "../../model/export-model.ts";
import {
  RAVEN_FIXTURE_KINDS,
  type RavenFixture,
  specCheckpointOf,
  writeRavenFixture,
} from "../../model/testing/raven-fixture.ts";
import { specRavenLogits } from "../../model/testing/raven-spec-forward.ts";
import type { GenerationConfig } from "../engine/generate.ts";
import { addNumericCheck } from "../engine/numeric-check.ts";
import { BrowserEngine } from "./browser-engine.ts";
import { launchChromium } from "./chromium.ts";

const work = mkdtempSync(join(tmpdir(), "evals-raven-browser-"));
const prompt = [1, 40, 77, 120, 5, 250, 33, 9];
const NEW_TOKENS = 4;
let browser: Browser;
const exported: { fixture: RavenFixture; out: string }[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  for (const kind of RAVEN_FIXTURE_KINDS) {
    const fixture = writeRavenFixture(join(work, `${kind}-source`), kind);
    const out = join(work, kind);
    await exportModel({ from: fixture.dir, out });
    await addNumericCheck(out);
    exported.push({ fixture, out });
  }
}, 600_000);
afterAll(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

/** Greedy tokens of the engine against the oracle's argmax after each prefix. */
async function expectOracleGreedy(engine: BrowserEngine, fixture: RavenFixture, r: number) {
  const config: GenerationConfig = {
    recurrences: r,
    maxNewTokens: NEW_TOKENS,
    kv: "full",
    stateInit: "zeros",
    stopIds: [],
    stopStrings: [],
  };
  const [result] = await engine.generate([{ promptIds: prompt, seed: 0 }], config);
  const sequence = [...prompt, ...result.ids];
  const logits = specRavenLogits(specCheckpointOf(fixture), sequence.slice(0, -1), {
    recurrences: r,
  });
  const oracle = logits.slice(prompt.length - 1).map((row) => row.indexOf(Math.max(...row)));
  expect(result.ids, `${fixture.kind} r=${r}`).toEqual(oracle);
  const last = logits[prompt.length - 1];
  for (const [id, logit] of result.top5) {
    expect(Math.abs(logit - last[id]), `${fixture.kind} r=${r} top5`).toBeLessThan(1e-3);
  }
}

describe("wasm", () => {
  it.each(RAVEN_FIXTURE_KINDS)(
    "%s: greedy tokens equal the spec oracle at r = 4",
    async (kind) => {
      const { fixture, out } = exported.find((e) => e.fixture.kind === kind)!;
      const engine = await BrowserEngine.open(out, { backend: "wasm", browser, threads: 2 });
      try {
        expect(engine.report.backend).toBe("wasm");
        await expectOracleGreedy(engine, fixture, 4);
      } finally {
        await engine.close();
      }
    },
    600_000,
  );
});

describe("webgpu", () => {
  it("each layer flavour: greedy tokens equal the spec oracle at r = 2", async () => {
    for (const { fixture, out } of exported.filter(
      (e) => e.fixture.kind !== "retrofit-tinyllama",
    )) {
      const engine = await BrowserEngine.open(out, { backend: "webgpu", browser });
      try {
        expect(engine.report.backend).toBe("webgpu");
        await expectOracleGreedy(engine, fixture, 2);
      } finally {
        await engine.close();
      }
    }
  }, 1_200_000);
});
