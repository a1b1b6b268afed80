// Follows a run until it is no longer active: a cli-progress bar per (task, r) on a terminal,
// a plain line per (task, r) whenever its count moves otherwise.
import cliProgress from "cli-progress";
import { ApiError, type EvalsClient } from "../../worker/client.ts";
import type { RunDetail } from "../../worker/protocol.ts";

export interface WaitOptions {
  pollMs: number;
  /** Where progress goes; bars only when it is a TTY. */
  stream: NodeJS.WriteStream;
  /** Plain lines off too (e.g. --json with a non-TTY stderr stays quiet but for errors). */
  quiet?: boolean;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Consecutive failed reads (no answer, or 5xx) tolerated before giving up on a long run. */
const MAX_READ_FAILURES = 5;

/** Reads the run, riding out a few network blips or server errors; a 4xx throws at once. */
async function readRun(client: EvalsClient, runId: string, pollMs: number): Promise<RunDetail> {
  for (let failures = 0; ; failures++) {
    try {
      return await client.getRun(runId);
    } catch (error) {
      const transient = !(error instanceof ApiError) || error.status >= 500;
      if (!transient || failures + 1 >= MAX_READ_FAILURES) throw error;
      await sleep(Math.max(pollMs, 500) * 2 ** failures);
    }
  }
}
const label = (p: RunDetail["progress"][number]) => `${p.task} r=${p.recurrences}`;

/** Example: `const run = await waitForRun(client, id, { pollMs: 2000, stream: process.stderr })`. */
export async function waitForRun(
  client: EvalsClient,
  runId: string,
  options: WaitOptions,
): Promise<RunDetail> {
  const tty = options.stream.isTTY === true && !options.quiet;
  const multibar = tty
    ? new cliProgress.MultiBar(
        {
          format: "{label} [{bar}] {value}/{total} {state}",
          stream: options.stream,
          hideCursor: false,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const bars = new Map<string, cliProgress.SingleBar>();
  const printed = new Map<string, number>();
  const width = (run: RunDetail) => Math.max(...run.progress.map((p) => label(p).length));
  try {
    for (;;) {
      const run = await readRun(client, runId, options.pollMs);
      for (const p of run.progress) {
        const key = label(p);
        const failed = p.shards.failed ?? 0;
        const state = failed ? `(${failed} shard${failed > 1 ? "s" : ""} failed)` : "";
        if (multibar) {
          const payload = { label: key.padEnd(width(run)), state };
          const bar = bars.get(key);
          if (bar) bar.update(p.samples_done, payload);
          else bars.set(key, multibar.create(p.samples_total, p.samples_done, payload));
        } else if (!options.quiet && printed.get(key) !== p.samples_done) {
          printed.set(key, p.samples_done);
          options.stream.write(`${key}: ${p.samples_done}/${p.samples_total} ${state}`.trimEnd());
          options.stream.write("\n");
        }
      }
      if (run.state !== "active") return run;
      await sleep(options.pollMs);
    }
  } finally {
    multibar?.stop();
  }
}
