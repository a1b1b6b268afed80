// The 1.2B-parameter shape in the browser runner's WASM backend, without a browser: export
// `--random llama-3.2-1b --split 4,8,4 --quant q4`, then load it in onnxruntime-web (wasm) inside
// Node and generate a few tokens. Each phase runs in its own process so its peak RSS is its own.
// Usage: npx tsx bench/scale.ts [--quant q4|q8] [--tokens N] [--threads N] [--keep DIR]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCheckpoint } from "../model/checkpoint.ts";
import { exportModel } from "../model/export-model.ts";
import { openWasmModelInNode } from "../model/testing/wasm-in-node.ts";
import { generateBatch } from "../runner/engine/generate.ts";

const PRESET = "llama-3.2-1b";
const SPLIT: [number, number, number] = [4, 8, 4];

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : fallback;
};
const maxRssGiB = () => process.resourceUsage().maxRSS / 2 ** 20;

if (argv[0] === "--export") {
  const [, out, quant] = argv;
  const started = performance.now();
  const manifest = await exportModel({
    random: PRESET,
    split: SPLIT,
    out,
    dtype: quant as "q4" | "q8",
  });
  const bytes = [manifest.graphs.prelude, manifest.graphs.block, manifest.graphs.coda].reduce(
    (n, g) => n + (g ? g.bytes + (g.externalData?.bytes ?? 0) : 0),
    0,
  );
  process.stdout.write(
    `${JSON.stringify({
      phase: "export",
      seconds: (performance.now() - started) / 1000,
      graphGiB: bytes / 2 ** 30,
      parameters: manifest.parameters.total,
      maxRssGiB: maxRssGiB(),
    })}\n`,
  );
} else if (argv[0] === "--wasm") {
  const [, dir, tokens, threads] = argv;
  const started = performance.now();
  const model = await openWasmModelInNode(await readCheckpoint(dir, { verify: false }), {
    threads: Number(threads),
  });
  const loadSeconds = (performance.now() - started) / 1000;
  const rows = [];
  for (const recurrences of [1, 4]) {
    const prompt = [1, 791, 4062, 14198, 39935, 35308, 927, 279]; // 8 tokens
    const t0 = performance.now();
    const [result] = await generateBatch(
      model,
      [{ promptIds: prompt, seed: 0 }],
      {
        recurrences,
        maxNewTokens: Number(tokens),
        kv: "full",
        stateInit: "zeros",
        stopIds: [],
        stopStrings: [],
      },
      () => "",
    );
    const seconds = (performance.now() - t0) / 1000;
    rows.push({
      recurrences,
      generated: result.ids.length,
      seconds,
      tokensPerSecond: result.ids.length / seconds,
    });
  }
  process.stdout.write(
    `${JSON.stringify({ phase: "wasm", threads: Number(threads), loadSeconds, rows, maxRssGiB: maxRssGiB() })}\n`,
  );
} else {
  const quant = flag("--quant", "q4");
  const tokens = flag("--tokens", "8");
  const threads = flag("--threads", "1");
  const keep = argv.includes("--keep") ? flag("--keep", "") : null;
  const root = keep ?? mkdtempSync(join(tmpdir(), "evals-bench-scale-"));
  const dir = join(root, `${PRESET}-${quant}`);
  const child = (args: string[]) => {
    const run = spawnSync(process.execPath, [...process.execArgv, import.meta.filename, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" },
    });
    if (run.status !== 0) throw new Error(`${args[0]} failed (${run.status})`);
    process.stdout.write(run.stdout);
  };
  try {
    child(["--export", dir, quant]);
    child(["--wasm", dir, tokens, threads]);
  } finally {
    if (!keep) rmSync(root, { recursive: true, force: true });
  }
}
