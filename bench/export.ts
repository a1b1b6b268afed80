// Export time and peak memory of random checkpoints. Each export runs in its own process so the
// peak RSS belongs to that export alone.  Usage: npx tsx bench/export.ts [small,llama-3.2-1b]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportModel } from "../model/export-model.ts";

interface Case {
  preset: string;
  dtype: "fp32" | "fp16";
  split: [number, number, number];
}

const CASES: Case[] = [
  { preset: "small", dtype: "fp32", split: [2, 4, 2] },
  { preset: "small", dtype: "fp16", split: [2, 4, 2] },
  { preset: "llama-3.2-1b", dtype: "fp16", split: [4, 8, 4] },
];

if (process.argv[2] === "--child") {
  const [preset, dtype, split] = process.argv.slice(3);
  const out = mkdtempSync(join(tmpdir(), "evals-bench-export-"));
  const started = performance.now();
  const manifest = await exportModel({
    random: preset,
    out: join(out, "ckpt"),
    dtype: dtype as "fp32" | "fp16",
    split: split.split(",").map(Number) as [number, number, number],
  });
  const seconds = (performance.now() - started) / 1000;
  const graphBytes = [manifest.graphs.prelude, manifest.graphs.block, manifest.graphs.coda].reduce(
    (n, g) => n + (g ? g.bytes + (g.externalData?.bytes ?? 0) : 0),
    0,
  );
  rmSync(out, { recursive: true, force: true });
  process.stdout.write(
    JSON.stringify({
      seconds,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      parameters: manifest.parameters.total,
      graphBytes,
    }),
  );
} else {
  const only = process.argv[2]?.split(",");
  console.log("preset         dtype  split   parameters       on disk   export s   peak RSS MiB");
  for (const c of CASES.filter((c) => !only || only.includes(c.preset))) {
    const child = spawnSync(
      process.execPath,
      ["--import", "tsx", import.meta.filename, "--child", c.preset, c.dtype, c.split.join(",")],
      {
        encoding: "utf8",
        maxBuffer: 1 << 20,
      },
    );
    if (child.status !== 0) {
      console.log(`${c.preset} ${c.dtype}: failed\n${child.stderr}`);
      continue;
    }
    const r = JSON.parse(child.stdout);
    console.log(
      `${c.preset.padEnd(14)} ${c.dtype.padEnd(6)} ${c.split.join(",").padEnd(7)} ${r.parameters.toLocaleString("en-US").padStart(13)} ${(r.graphBytes / 2 ** 20).toFixed(0).padStart(9)} MiB ${r.seconds.toFixed(1).padStart(8)} ${r.maxRssMiB.toFixed(0).padStart(14)}`,
    );
  }
}
