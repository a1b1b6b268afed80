// Node-side handle on the engine page: launches (or reuses) Chromium, serves the page and the
// checkpoint, and calls `window.evalsEngine` in it. Backends: onnxruntime-web on wasm or webgpu.
import { randomUUID } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { EvalsError } from "../../evals/errors.ts";
import { readCheckpoint } from "../../model/checkpoint.ts";
import type { GraphVariantName, Manifest } from "../../model/manifest.ts";
import { wasmMemoryRefusal } from "../../model/memory-ceiling.ts";
import {
  ContextWindowExceededError,
  GenerationRequestError,
  LoglikelihoodRequestError,
  NonFiniteValueError,
} from "../engine/errors.ts";
import {
  type GenerationConfig,
  type GenerationRequest,
  type GenerationResult,
  type SweepGeneration,
  validateGeneration,
} from "../engine/generate.ts";
import { chooseGraphVariant, type GraphChoice, numericFallback } from "../engine/graph-variant.ts";
import type {
  EncodedPair,
  LoglikelihoodConfig,
  LoglikelihoodRequest,
  LoglikelihoodResult,
} from "../engine/loglikelihood.ts";
import {
  FP16_COMPUTE_TOLERANCE,
  type NumericTolerance,
  numericCheckConfig,
  numericCheckFailure,
  numericToleranceOf,
} from "../engine/numeric-check.ts";
import { buildEnginePage } from "../page/build.ts";
import type { BrowserBackend, LoadReport, WebGpuProbe } from "../page/engine-page.ts";
import { type StaticServer, startStaticServer } from "../serve/static-server.ts";
import { launchChromium } from "./chromium.ts";

export class BackendUnavailableError extends EvalsError {}

interface PageEngine {
  load(
    url: string,
    manifest: Manifest,
    options: {
      backend: BrowserBackend;
      threads: number;
      spinning?: boolean;
      variant: GraphVariantName | null;
      decodeInPlace?: boolean;
      decodeHeadroom?: number;
    },
  ): Promise<LoadReport>;
  generate(requests: GenerationRequest[], config: GenerationConfig): Promise<GenerationResult[]>;
  generateSweep(
    requests: GenerationRequest[],
    config: Omit<GenerationConfig, "recurrences">,
    recurrences: number[],
  ): Promise<SweepGeneration[]>;
  encode(texts: string[]): number[][];
  encodePairs(requests: LoglikelihoodRequest[], bos: boolean): EncodedPair[];
  loglikelihood(pairs: EncodedPair[], config: LoglikelihoodConfig): Promise<LoglikelihoodResult[]>;
  loglikelihoodSweep(
    pairs: EncodedPair[],
    config: Omit<LoglikelihoodConfig, "recurrences">,
    recurrences: number[],
  ): Promise<LoglikelihoodResult[][]>;
  probeWebGpu(): Promise<WebGpuProbe>;
}

export interface BrowserEngineOptions {
  backend: BrowserBackend;
  threads?: number;
  /** Busy-waiting WASM pool threads (default off). */
  spinning?: boolean;
  /** WebGPU, fused-operator graphs: decode into reserved KV buffers in place (default true). */
  decodeInPlace?: boolean;
  /** KV slots an in-place decode reserves beyond the prompt at first (default 256). */
  decodeHeadroom?: number;
  browser?: Browser;
  chromium?: string;
}

/** What one checkpoint's load gave the page. */
interface Loaded {
  manifest: Manifest;
  report: LoadReport;
  graphs: GraphChoice;
}

export class BrowserEngine {
  private loaded: Loaded | null = null;

  private constructor(
    private readonly page: Page,
    private readonly server: StaticServer,
    private readonly ownBrowser: Browser | null,
    private readonly options: BrowserEngineOptions,
  ) {}

  get manifest(): Manifest {
    return this.current().manifest;
  }

  get report(): LoadReport {
    return this.current().report;
  }

  /** The graph set the page runs and why (an fp16-compute variant, or the default graphs). */
  get graphs(): GraphChoice {
    return this.current().graphs;
  }

  private current(): Loaded {
    if (!this.loaded) throw new Error("no checkpoint is loaded in this page");
    return this.loaded;
  }

  static async open(checkpointDir: string, options: BrowserEngineOptions): Promise<BrowserEngine> {
    const { manifest } = await readCheckpoint(checkpointDir);
    preflight(manifest, options.backend);
    const server = await startStaticServer(await buildEnginePage());
    const ownBrowser = options.browser ? null : await launchChromium(options.chromium);
    const browser = options.browser ?? ownBrowser!;
    let page: Page | undefined;
    try {
      page = await browser.newPage();
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => "evalsEngine" in globalThis, null, { timeout: 30_000 });
      const engine = new BrowserEngine(page, server, ownBrowser, options);
      await engine.loadCheckpoint(checkpointDir, manifest);
      return engine;
    } catch (error) {
      await page?.close();
      await ownBrowser?.close();
      await server.close();
      throw error;
    }
  }

  /**
   * Loads another checkpoint in place of this one, in the same page: the backend, its device and
   * the kernels it compiled stay (a fresh page sets up onnxruntime-web and, on WebGPU, compiles
   * every kernel again). Checked as `open` checks; on failure no checkpoint is loaded.
   */
  async reload(checkpointDir: string): Promise<void> {
    const { manifest } = await readCheckpoint(checkpointDir);
    preflight(manifest, this.options.backend);
    this.loaded = null;
    try {
      await this.loadCheckpoint(checkpointDir, manifest);
    } catch (error) {
      this.loaded = null;
      throw error;
    }
  }

  private async loadCheckpoint(checkpointDir: string, manifest: Manifest): Promise<void> {
    const { page, options } = this;
    const url = this.server.addCheckpoint(randomUUID(), checkpointDir);
    const load = async (variant: GraphVariantName | null, graphs: GraphChoice) => {
      const report = await page
        .evaluate(
          ([u, m, o]) =>
            (globalThis as unknown as { evalsEngine: PageEngine }).evalsEngine.load(u, m, o),
          [
            url,
            manifest,
            {
              backend: options.backend,
              threads: options.threads ?? 1,
              spinning: options.spinning,
              variant,
              decodeInPlace: options.decodeInPlace,
              decodeHeadroom: options.decodeHeadroom,
            },
          ] as const,
        )
        .catch((error: Error) => {
          throw new BackendUnavailableError(
            `${options.backend} backend cannot run ${checkpointDir}${variant ? ` (${variant} graphs)` : ""}: ${firstLine(error.message)}`,
          );
        });
      if (report.backend !== options.backend) {
        throw new BackendUnavailableError(
          `asked for ${options.backend} but the page loaded ${report.backend}`,
        );
      }
      this.loaded = { manifest, report, graphs };
    };
    const shaderF16 =
      options.backend === "webgpu" && manifest.variants?.webgpu_f16
        ? await page.evaluate(async () => {
            const engine = (globalThis as unknown as { evalsEngine: PageEngine }).evalsEngine;
            return (await engine.probeWebGpu()).shaderF16;
          })
        : false;
    const choice = chooseGraphVariant(manifest, { backend: options.backend, shaderF16 });
    if (choice.variant) {
      // The variant runs only if it loads and reproduces the numeric check at fp16 tolerance.
      const failure = await load(choice.variant, choice).then(
        () => this.numericFailure(FP16_COMPUTE_TOLERANCE),
        (error: Error) => `loading failed: ${error.message}`,
      );
      if (failure === null) return;
      await load(null, numericFallback(failure));
    } else {
      await load(null, choice);
    }
    await this.verifyNumerics(checkpointDir);
  }

  /**
   * How the loaded graphs depart from the manifest's numeric check at `tolerance`, or null when
   * they reproduce it. Without a check there is nothing to compare: a variant then counts as
   * failed, the default graphs as passed (as before checks existed).
   */
  private async numericFailure(tolerance: NumericTolerance): Promise<string | null> {
    const check = this.manifest.numeric_check;
    if (!check) return this.report.variant ? "the manifest has no numeric check" : null;
    const [result] = await this.generate(
      [{ promptIds: check.input_ids, seed: 0 }],
      numericCheckConfig(check.recurrences),
    );
    return numericCheckFailure(check, result.top5, tolerance);
  }

  /** Reproduces the manifest's numeric check; a backend that computes other numbers is refused. */
  private async verifyNumerics(checkpointDir: string): Promise<void> {
    const failure = await this.numericFailure(numericToleranceOf(this.manifest));
    if (failure) {
      throw new BackendUnavailableError(
        `${this.report.backend} computes different numbers than onnxruntime-node on ${checkpointDir} (${failure}); ` +
          "use another backend or dtype",
      );
    }
  }

  encode(texts: string[]): Promise<number[][]> {
    return this.page.evaluate(
      (t) => (globalThis as unknown as { evalsEngine: PageEngine }).evalsEngine.encode(t),
      texts,
    );
  }

  async generate(
    requests: GenerationRequest[],
    config: GenerationConfig,
  ): Promise<GenerationResult[]> {
    validateGeneration(this.manifest, config, requests);
    return this.page
      .evaluate(
        ([r, c]) =>
          (globalThis as unknown as { evalsEngine: PageEngine }).evalsEngine.generate(r, c),
        [requests, config] as const,
      )
      .catch((error: Error) => {
        throw pageError(error);
      });
  }

  /** Greedy decoding at every r of `recurrences` (ascending), one prefill at the largest. */
  async generateSweep(
    requests: GenerationRequest[],
    config: Omit<GenerationConfig, "recurrences">,
    recurrences: number[],
  ): Promise<SweepGeneration[]> {
    for (const r of recurrences)
      validateGeneration(this.manifest, { ...config, recurrences: r }, requests);
    return this.page
      .evaluate(
        ([q, c, rs]) =>
          (globalThis as unknown as { evalsEngine: PageEngine }).evalsEngine.generateSweep(
            q,
            c,
            rs,
          ),
        [requests, config, recurrences] as const,
      )
      .catch((error: Error) => {
        throw pageError(error);
      });
  }

  /** lm-eval's `_encode_pair` in the page (the same tokenizer code as Node). */
  encodePairs(requests: LoglikelihoodRequest[], bos: boolean): Promise<EncodedPair[]> {
    return this.page.evaluate(
      ([r, b]) =>
        (globalThis as unknown as { evalsEngine: PageEngine }).evalsEngine.encodePairs(r, b),
      [requests, bos] as const,
    );
  }

  /** Summed log-probabilities and greedy flags of encoded pairs, in request order. */
  async loglikelihood(
    pairs: EncodedPair[],
    config: LoglikelihoodConfig,
  ): Promise<LoglikelihoodResult[]> {
    return this.page
      .evaluate(
        ([p, c]) =>
          (globalThis as unknown as { evalsEngine: PageEngine }).evalsEngine.loglikelihood(p, c),
        [pairs, config] as const,
      )
      .catch((error: Error) => {
        throw pageError(error);
      });
  }

  /** Log-probabilities at every r of `recurrences` (ascending), per r in request order. */
  async loglikelihoodSweep(
    pairs: EncodedPair[],
    config: Omit<LoglikelihoodConfig, "recurrences">,
    recurrences: number[],
  ): Promise<LoglikelihoodResult[][]> {
    return this.page
      .evaluate(
        ([p, c, rs]) =>
          (globalThis as unknown as { evalsEngine: PageEngine }).evalsEngine.loglikelihoodSweep(
            p,
            c,
            rs,
          ),
        [pairs, config, recurrences] as const,
      )
      .catch((error: Error) => {
        throw pageError(error);
      });
  }

  async close(): Promise<void> {
    await this.page.close();
    await this.ownBrowser?.close();
    await this.server.close();
  }
}

/** Refuses, before loading anything, a checkpoint the backend cannot run (DESIGN §9 limits). */
function preflight(manifest: Manifest, backend: BrowserBackend): void {
  const refusal = wasmMemoryRefusal(manifest, backend);
  if (refusal) throw new BackendUnavailableError(refusal);
  if (backend === "webgpu") {
    // A single tensor above the adapter's maxBufferSize fails at run time; SwiftShader allows 1 GiB.
    const largest = manifest.architecture.vocab_size * manifest.architecture.hidden_size * 4;
    if (largest > 2 ** 30) {
      throw new BackendUnavailableError(
        `webgpu: the embedding needs a ${(largest / 2 ** 30).toFixed(2)} GiB buffer, above the 1 GiB adapter limit`,
      );
    }
  }
}

/** Errors thrown in the page arrive as text; give the named ones their class back. */
function pageError(error: Error): Error {
  const match =
    /(NonFiniteValueError|GenerationRequestError|ContextWindowExceededError|LoglikelihoodRequestError): ([^\n]*)/.exec(
      error.message,
    );
  if (!match) return error;
  const Named = {
    NonFiniteValueError,
    GenerationRequestError,
    ContextWindowExceededError,
    LoglikelihoodRequestError,
  }[match[1]]!;
  return new Named(match[2]);
}

function firstLine(text: string): string {
  return text.split("\n")[0];
}
