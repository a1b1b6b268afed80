// This machine's memory bandwidth, measured rather than assumed: a large typed-array copy (bytes
// read + bytes written) and a read-only sum, on 1 thread and on N workers at once, each on
// buffers of its own far larger than any cache. Every round starts all threads together (a
// shared-memory barrier) and counts from the first start to the last finish; best round wins.
import { Worker } from "node:worker_threads";

export interface Bandwidth {
  /** Bytes per second, by kernel and thread count. */
  copy: Record<number, number>;
  read: Record<number, number>;
  best: number;
}

/**
 * One thread's part: allocate, then `rounds` passes of `kernel` over `mib` MiB, each after the
 * barrier lets every party through. Returns each pass's [start, end] in ms on a shared clock.
 */
function rounds(
  kernel: "copy" | "read",
  mib: number,
  count: number,
  counter: Int32Array,
  parties: number,
): [number, number][] {
  const n = (mib * 2 ** 20) / 8;
  const src = new Float64Array(n).fill(1);
  const dst = kernel === "copy" ? new Float64Array(n).fill(0) : null;
  const spans: [number, number][] = [];
  let sink = 0;
  for (let k = 1; k <= count; k++) {
    Atomics.add(counter, 0, 1);
    Atomics.notify(counter, 0);
    for (let seen = Atomics.load(counter, 0); seen < k * parties; seen = Atomics.load(counter, 0))
      Atomics.wait(counter, 0, seen, 100);
    const start = performance.timeOrigin + performance.now();
    if (dst) dst.set(src);
    else {
      // Four accumulators so the loop is not bound by one add's latency.
      let a = 0;
      let b = 0;
      let c = 0;
      let d = 0;
      for (let i = 0; i < n; i += 4) {
        a += src[i];
        b += src[i + 1];
        c += src[i + 2];
        d += src[i + 3];
      }
      sink += a + b + c + d;
    }
    spans.push([start, performance.timeOrigin + performance.now()]);
  }
  if (sink < 0) console.log(sink);
  return spans;
}

/** Best bytes/s over the rounds, all `threads` workers (or this thread alone for 1) at once. */
async function rate(kernel: "copy" | "read", threads: number, mib: number, count: number) {
  const shared = new SharedArrayBuffer(4);
  let spans: [number, number][][];
  if (threads === 1) {
    spans = [rounds(kernel, mib, count, new Int32Array(shared), 1)];
  } else {
    const source = `
      const { parentPort, workerData } = require("node:worker_threads");
      ${rounds.toString()}
      const { kernel, mib, count, shared, parties } = workerData;
      parentPort.postMessage(rounds(kernel, mib, count, new Int32Array(shared), parties));
    `;
    spans = await Promise.all(
      Array.from(
        { length: threads },
        () =>
          new Promise<[number, number][]>((resolve, reject) => {
            const worker = new Worker(source, {
              eval: true,
              workerData: { kernel, mib, count, shared, parties: threads },
            });
            worker.once("message", resolve);
            worker.once("error", reject);
          }),
      ),
    );
  }
  const bytes = threads * (kernel === "copy" ? 2 : 1) * mib * 2 ** 20;
  let best = 0;
  for (let k = 0; k < count; k++) {
    const first = Math.min(...spans.map((s) => s[k][0]));
    const last = Math.max(...spans.map((s) => s[k][1]));
    best = Math.max(best, bytes / ((last - first) / 1000));
  }
  return best;
}

export async function measureBandwidth(threads: number, mib = 256, count = 5): Promise<Bandwidth> {
  const copy: Record<number, number> = {};
  const read: Record<number, number> = {};
  for (const t of threads > 1 ? [1, threads] : [1]) {
    copy[t] = await rate("copy", t, mib, count);
    read[t] = await rate("read", t, mib, count);
  }
  const best = Math.max(...Object.values(copy), ...Object.values(read));
  return { copy, read, best };
}

/**
 * Bytes/s `threads` threads read when streaming: the read-only sum, or half the copy's count
 * (a copy reads as many bytes as it writes), whichever showed more.
 */
export function streamRate(bandwidth: Bandwidth, threads: number): number {
  return Math.max(bandwidth.read[threads] ?? 0, (bandwidth.copy[threads] ?? 0) / 2);
}
