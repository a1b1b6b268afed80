// The runner: one headless Chromium, N pages as worker slots (a p-queue of shards), and a lease
// loop that keeps the slots busy. Each slot keeps its checkpoint loaded between shards of the
// same checkpoint. A shard that throws, hangs past the timeout or crashes its page is reported
// failed with the reason, the page is replaced, and a dead browser is restarted.
import { cpus } from "node:os";
import PQueue from "p-queue";
import type { Browser } from "playwright-core";
import { EvalsError } from "../evals/errors.ts";
import { ApiError, type EvalsClient } from "../worker/client.ts";
import type { Lease } from "../worker/protocol.ts";
import { retryApi } from "./api-retry.ts";
import { defaultThreads, type EngineBackend, openBackend } from "./backends.ts";
import { launchChromium } from "./browser/chromium.ts";
import type { CheckpointCache } from "./cache/checkpoint-cache.ts";
import {
  type BackendChoice,
  backendForCheckpoint,
  type ChosenBackend,
  chooseBackend,
} from "./capabilities.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { runShard } from "./run-shard.ts";
import type { RunnerLog } from "./runner-log.ts";
import { RUNNER_VERSION } from "./version.ts";

export class RunnerAuthError extends EvalsError {}
export class ShardTimeoutError extends EvalsError {}
export class RunnerApiUnreachableError extends EvalsError {}

/** How long `--once` keeps asking an API that does not answer before it exits. */
const ONCE_UNREACHABLE_MS = 20_000;

export interface RunnerOptions {
  client: EvalsClient;
  cache: CheckpointCache;
  log: RunnerLog;
  pages: number;
  backend: BackendChoice;
  chromium?: string;
  /** Exit once the API has no work left instead of waiting for more. */
  once: boolean;
  batchSize: number;
  /** CPU threads per page (wasm) or per engine (node); default: the backend's, at most cores ÷ pages. */
  threads?: number;
  /** A shard still running after this long is failed and its page replaced. */
  shardTimeoutMs: number;
  /** Longest wait between lease attempts when there is no work. */
  maxIdleMs?: number;
  /**
   * Ask for bundled leases (a shard and its siblings at other r, run as one sweep). Default true;
   * false (`--no-sweep`) takes one shard per lease.
   */
  sweep?: boolean;
}

export interface RunnerSummary {
  backend: ChosenBackend;
  shards: number;
  samples: number;
  failures: number;
  seconds: number;
}

interface Slot {
  index: number;
  engine: EngineBackend | null;
  checkpoint: string | null;
}

export class Runner {
  private browser: Browser | null = null;
  private relaunching: Promise<Browser> | null = null;
  private stopMode: "running" | "finish" | "release" = "running";
  private wake: () => void = () => {};
  private readonly summary = { shards: 0, samples: 0, failures: 0 };

  constructor(private readonly options: RunnerOptions) {}

  /** `finish`: no new leases, held shards run to the end. `release`: give them back after the current batch. */
  stop(mode: "finish" | "release", reason: string): void {
    if (this.stopMode === "release" || this.stopMode === mode) return;
    this.stopMode = mode;
    this.options.log({ event: "stopping", reason });
    this.wake();
  }

  async run(): Promise<RunnerSummary> {
    const { options } = this;
    const started = performance.now();
    if (options.backend !== "node") this.browser = await launchChromium(options.chromium);
    try {
      const backend = await chooseBackend(options.backend, this.browser);
      // Every backend runs a sweep (the same engine code), so each may take a bundled lease.
      const sweep = options.sweep !== false;
      const chosen = { ...backend, capabilities: { ...backend.capabilities, sweep } };
      options.log({
        event: "start",
        backend: chosen.backend,
        reason: chosen.reason,
        pages: options.pages,
        api: options.client.baseUrl,
        sweep,
      });
      const slots: Slot[] = Array.from({ length: options.pages }, (_, index) => ({
        index: index + 1,
        engine: null,
        checkpoint: null,
      }));
      await this.leaseLoop(chosen, slots);
      for (const slot of slots) await this.discard(slot);
      return { backend: chosen, ...this.summary, seconds: (performance.now() - started) / 1000 };
    } finally {
      await this.browser?.close().catch(() => {});
      options.log({
        event: "stopped",
        shards: this.summary.shards,
        samples: this.summary.samples,
        seconds: (performance.now() - started) / 1000,
      });
    }
  }

  private async leaseLoop(chosen: ChosenBackend, slots: Slot[]): Promise<void> {
    const { options } = this;
    const pool = new PQueue({ concurrency: slots.length });
    const free = [...slots].reverse();
    const nextFinished = () => new Promise<void>((done) => pool.once("next", () => done()));
    let idleMs = 0;
    let unreachableSince: number | null = null;
    while (this.stopMode === "running") {
      if (free.length === 0) {
        await nextFinished();
        continue;
      }
      let lease: Lease | null;
      try {
        lease = await options.client.lease(chosen.capabilities, RUNNER_VERSION);
      } catch (error) {
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          throw new RunnerAuthError(
            `the API refused this runner's token (${error.message}); ask an admin for a token with role "runner"`,
          );
        }
        if (error instanceof ApiError && error.status < 500) throw error;
        const detail = error instanceof Error ? error.message : String(error);
        unreachableSince ??= Date.now();
        // `--once` is for scripts and CI: an API that stays away ends it instead of waiting forever.
        if (options.once && Date.now() - unreachableSince >= ONCE_UNREACHABLE_MS) {
          throw new RunnerApiUnreachableError(
            `the API at ${options.client.baseUrl} did not answer for ${ONCE_UNREACHABLE_MS / 1000} s (${detail}); is it running?`,
          );
        }
        idleMs = nextBackoff(idleMs, options.maxIdleMs);
        options.log({ event: "api_unreachable", detail, retry_in_ms: idleMs });
        await this.sleep(idleMs);
        continue;
      }
      unreachableSince = null;
      if (!lease) {
        if (options.once) {
          if (pool.pending === 0) break;
          await nextFinished();
          continue;
        }
        // Said once when the queue runs dry, not at every poll.
        if (idleMs === 0) options.log({ event: "idle", retry_in_ms: options.maxIdleMs ?? 30_000 });
        idleMs = nextBackoff(idleMs, options.maxIdleMs);
        await this.sleep(idleMs);
        continue;
      }
      idleMs = 0;
      const slot = free.pop() as Slot;
      const held = lease;
      void pool.add(() => this.execute(slot, held, chosen).finally(() => free.push(slot)));
    }
    await pool.onIdle();
  }

  private async execute(slot: Slot, lease: Lease, chosen: ChosenBackend): Promise<void> {
    const { options } = this;
    const started = performance.now();
    // From the moment of the lease: a download or a model load can take longer than a lease.
    const heartbeat = startHeartbeat(options.client, lease.lease_id, lease.deadline);
    try {
      const engine = await this.engineFor(slot, lease, chosen);
      const outcome = await withTimeout(
        runShard({
          client: options.client,
          lease,
          engine,
          page: slot.index,
          batchSize: options.batchSize,
          runnerVersion: RUNNER_VERSION,
          log: options.log,
          heartbeat,
          shouldRelease: () => this.stopMode === "release",
        }),
        options.shardTimeoutMs,
        `shard ${lease.shard.id} ran past the ${options.shardTimeoutMs / 1000} s shard timeout`,
      );
      this.summary.samples += outcome.samples;
      if (outcome.kind === "done") {
        this.summary.shards += lease.bundle?.length ?? 1;
        options.log({
          event: "shard_done",
          page: slot.index,
          shard: lease.shard.id,
          samples: outcome.samples,
          seconds: (performance.now() - started) / 1000,
        });
      } else if (outcome.kind === "released") {
        options.log({
          event: "shard_released",
          page: slot.index,
          shard: lease.shard.id,
          done: outcome.samples,
        });
      } else {
        options.log({
          event: "lease_lost",
          page: slot.index,
          shard: lease.shard.id,
          detail: outcome.detail,
        });
      }
    } catch (error) {
      this.summary.failures++;
      const backend =
        slot.engine?.name ?? backendForCheckpoint(chosen, lease.checkpoint.manifest).backend;
      const reason = `${backend}: ${error instanceof Error ? error.message : String(error)}`;
      options.log({ event: "shard_failed", page: slot.index, shard: lease.shard.id, reason });
      await retryApi(() => options.client.reportFailure(lease.lease_id, reason.slice(0, 4000)), {
        what: `reporting the failure of shard ${lease.shard.id}`,
        giveUpAfterMs: 60_000,
      }).catch(() => {});
      // The page may be hung or crashed: never reuse it after a failure.
      await this.discard(slot);
      options.log({ event: "page_replaced", page: slot.index, reason: "after a failed shard" });
      if (this.browser && !this.browser.isConnected()) await this.restartBrowser("it crashed");
    } finally {
      heartbeat.stop();
    }
  }

  /** The slot's engine for the lease's checkpoint, loading it (and its files) when needed. */
  private async engineFor(slot: Slot, lease: Lease, chosen: ChosenBackend): Promise<EngineBackend> {
    const checkpoint = lease.checkpoint;
    if (slot.engine && slot.checkpoint === checkpoint.id) return slot.engine;
    await this.discard(slot);
    const { cache, client, log } = this.options;
    const dir = await cache.acquire(
      checkpoint.id,
      checkpoint.files.map((file) => ({ ...file, url: client.url(file.url) })),
      checkpoint.manifest,
    );
    slot.checkpoint = checkpoint.id;
    const t0 = performance.now();
    const { backend, reason } = backendForCheckpoint(chosen, checkpoint.manifest);
    const browser = backend === "node" ? undefined : await this.liveBrowser();
    slot.engine = await openBackend(dir, backend, {
      threads:
        this.options.threads ??
        Math.max(
          1,
          Math.min(defaultThreads(backend), Math.floor(cpus().length / this.options.pages)),
        ),
      browser,
    });
    log({
      event: "load",
      page: slot.index,
      checkpoint: checkpoint.id,
      backend,
      ...(reason ? { backend_reason: reason } : {}),
      device: slot.engine.adapter,
      graphs: slot.engine.graphs.reason,
      ms: performance.now() - t0,
    });
    return slot.engine;
  }

  private async discard(slot: Slot): Promise<void> {
    const engine = slot.engine;
    if (slot.checkpoint) this.options.cache.release(slot.checkpoint);
    slot.engine = null;
    slot.checkpoint = null;
    if (engine) await withTimeout(engine.close(), 10_000, "closing the page").catch(() => {});
  }

  private async liveBrowser(): Promise<Browser> {
    if (this.browser?.isConnected()) return this.browser;
    return this.restartBrowser("it is gone");
  }

  private restartBrowser(reason: string): Promise<Browser> {
    this.relaunching ??= (async () => {
      await this.browser?.close().catch(() => {});
      this.browser = await launchChromium(this.options.chromium);
      this.options.log({ event: "browser_restarted", reason });
      return this.browser;
    })().finally(() => {
      this.relaunching = null;
    });
    return this.relaunching;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((done) => {
      const timer = setTimeout(done, ms);
      this.wake = () => {
        clearTimeout(timer);
        done();
      };
    });
  }
}

/** 0.5 s, doubling, to at most `max` (30 s), with ±20% jitter so runners do not move in step. */
function nextBackoff(previous: number, max = 30_000): number {
  const base = previous === 0 ? 500 : Math.min(previous * 2, max);
  return Math.round(base * (0.8 + 0.4 * Math.random()));
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new ShardTimeoutError(message)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
