// Export time and peak memory of a Llama-3.2-1B-shaped raven retrofit (h 2048, 32/8 heads, MLP 8192,
// vocab 128256, split 4,6,4, untied head): fp32 safetensors, 5.5 GB in shards, laid out as the
// retrofit converter writes it. The source is written tensor by tensor (never whole in memory); the
// export runs in its own process so its peak RSS is its own.
// Usage: npx tsx bench/raven-export.ts [workdir]   (needs ~12 GB free disk in workdir)
import { spawnSync } from "node:child_process";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportModel } from "../model/export-model.ts";
import { byteTokenizerFiles } from "../model/random-tokenizer.ts";

const H = 2048;
const HEADS = 32;
const KV = 8;
const D = H / HEADS;
const I = 8192;
const VOCAB = 128256;
const SPLIT = [4, 6, 4] as const;
const SHARD_BYTES = 2 * 2 ** 30;

function tensorShapes(): [string, number[]][] {
  const shapes: [string, number[]][] = [["transformer.wte.weight", [VOCAB, H]]];
  (["prelude", "core_block", "coda"] as const).forEach((part, k) => {
    for (let i = 0; i < SPLIT[k]; i++) {
      const p = `transformer.${part}.${i}`;
      shapes.push(
        [`${p}.norm_1.weight`, [H]],
        [`${p}.attn.Wqkv.weight`, [(HEADS + 2 * KV) * D, H]],
        [`${p}.attn.proj.weight`, [H, HEADS * D]],
        [`${p}.norm_2.weight`, [H]],
        [`${p}.mlp.fc.weight`, [2 * I, H]],
        [`${p}.mlp.proj.weight`, [H, I]],
      );
    }
  });
  shapes.push(
    ["transformer.adapter.weight", [H, 2 * H]],
    ["transformer.ln_f.weight", [H]],
    ["lm_head.weight", [VOCAB, H]],
  );
  return shapes;
}

/** Writes the shards and their index, one tensor at a time, filled with small deterministic values. */
function writeSource(dir: string): number {
  mkdirSync(dir, { recursive: true });
  const shards: [string, number[]][][] = [[]];
  let bytes = 0;
  for (const entry of tensorShapes()) {
    const size = entry[1].reduce((a, b) => a * b, 1) * 4;
    if (bytes + size > SHARD_BYTES && shards.at(-1)!.length > 0) {
      shards.push([]);
      bytes = 0;
    }
    shards.at(-1)!.push(entry);
    bytes += size;
  }
  const weightMap: Record<string, string> = {};
  let total = 0;
  shards.forEach((entries, k) => {
    const file = `model-${String(k + 1).padStart(5, "0")}-of-${String(shards.length).padStart(5, "0")}.safetensors`;
    const header: Record<string, unknown> = {};
    let offset = 0;
    for (const [name, shape] of entries) {
      const size = shape.reduce((a, b) => a * b, 1) * 4;
      header[name] = { dtype: "F32", shape, data_offsets: [offset, offset + size] };
      offset += size;
      weightMap[name] = file;
    }
    total += offset;
    let text = JSON.stringify(header);
    while ((8 + text.length) % 8 !== 0) text += " ";
    const fd = openSync(join(dir, file), "w");
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(text.length));
    writeSync(fd, length);
    writeSync(fd, text);
    const chunk = new Float32Array(1 << 20);
    for (const [name, shape] of entries) {
      let left = shape.reduce((a, b) => a * b, 1);
      const norm = name.includes("norm") || name.endsWith("ln_f.weight");
      for (let i = 0; i < chunk.length; i++) chunk[i] = norm ? 1 : Math.sin(i * 12.9898) * 0.02;
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        writeSync(fd, new Uint8Array(chunk.buffer, 0, n * 4));
        left -= n;
      }
    }
    closeSync(fd);
  });
  writeFileSync(
    join(dir, "model.safetensors.index.json"),
    JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }),
  );
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({
      architectures: ["RavenForCausalLM"],
      model_type: "huginn_raven",
      n_embd: H,
      n_heads: HEADS,
      n_layers: SPLIT[0] + SPLIT[1] + SPLIT[2],
      num_key_value_heads: KV,
      intermediate_size: I,
      n_layers_in_prelude: SPLIT[0],
      n_layers_in_recurrent_block: SPLIT[1],
      n_layers_in_coda: SPLIT[2],
      vocab_size: VOCAB,
      padded_vocab_size: VOCAB,
      block_size: 4096,
      norm_eps: 1e-5,
      rope_base: 500000,
      rope_theta: 500000,
      rope_scaling: {
        factor: 32,
        low_freq_factor: 1,
        high_freq_factor: 4,
        original_max_position_embeddings: 8192,
        rope_type: "llama3",
      },
      max_position_embeddings: 131072,
      qk_bias: false,
      bias: false,
      tie_embeddings: false,
      tie_word_embeddings: false,
      mean_recurrence: 32,
      init_values: { std: 0.008703882797784892, embed_scale: 1 },
      torch_dtype: "float32",
    }),
  );
  for (const [name, json] of Object.entries(byteTokenizerFiles(VOCAB))) {
    writeFileSync(join(dir, name), JSON.stringify(json));
  }
  return total;
}

if (process.argv[2] === "--child") {
  const [from, out] = process.argv.slice(3);
  const started = performance.now();
  const manifest = await exportModel({ from, out });
  process.stdout.write(
    JSON.stringify({
      seconds: (performance.now() - started) / 1000,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      parameters: manifest.parameters.total,
    }),
  );
} else {
  const work = mkdtempSync(join(process.argv[2] ?? tmpdir(), "evals-bench-raven-"));
  try {
    const source = join(work, "source");
    const bytes = writeSource(source);
    console.log(`source: ${(bytes / 1e9).toFixed(2)} GB fp32 safetensors, sharded`);
    const child = spawnSync(
      process.execPath,
      ["--import", "tsx", import.meta.filename, "--child", source, join(work, "out")],
      { encoding: "utf8", maxBuffer: 1 << 20 },
    );
    if (child.status !== 0) throw new Error(child.stderr);
    const r = JSON.parse(child.stdout);
    console.log(
      `export: ${r.parameters.toLocaleString("en-US")} parameters, ${r.seconds.toFixed(1)} s, peak RSS ${r.maxRssMiB.toFixed(0)} MiB`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
