// The paper's general suite for end-to-end tests: the first rows of each dataset in
// ../shared/datasets (MMLU: of each subject), written in the Hugging Face layout lm-eval reads.
// HellaSwag's shared copy is partial and lacks ctx_a/ctx_b, so its rows get them here (the whole
// `ctx` as ctx_a, ctx_b empty), which lm-eval's process_docs joins into the same query.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./cli.ts";

export const GENERAL_SUITE = [
  "lambada_openai",
  "hellaswag",
  "arc_easy",
  "arc_challenge",
  "openbookqa",
  "piqa",
  "mmlu",
  "social_iqa",
  "winogrande",
  "asdiv",
];

const FILES: Record<string, string> = {
  lambada_openai: "test.jsonl",
  arc_easy: "test.jsonl",
  arc_challenge: "test.jsonl",
  openbookqa: "test.jsonl",
  piqa: "validation.jsonl",
  mmlu: "test.jsonl",
  social_iqa: "validation.jsonl",
  winogrande: "validation.jsonl",
  asdiv: "validation.jsonl",
};

const shared = join(repoRoot, "../shared/datasets");

function rows(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line));
}

/** Writes `<dir>/<dataset>/<split>.jsonl` with the first `count` rows (per MMLU subject); returns dir. */
export function generalDataDir(dir: string, count: number): string {
  for (const [name, file] of Object.entries(FILES)) {
    const all = rows(join(shared, name, file));
    const seen = new Map<unknown, number>();
    const kept = all.filter((row) => {
      const group = name === "mmlu" ? row.subject : "";
      seen.set(group, (seen.get(group) ?? 0) + 1);
      return (seen.get(group) ?? 0) <= count;
    });
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, file), `${kept.map((r) => JSON.stringify(r)).join("\n")}\n`);
  }
  const hellaswag = rows(join(shared, "hellaswag/partial/validation_subset500_viczon7.jsonl"))
    .slice(0, count)
    .map((row) => ({ ...row, ctx_a: row.ctx, ctx_b: "", label: String(row.label) }));
  mkdirSync(join(dir, "hellaswag"), { recursive: true });
  writeFileSync(
    join(dir, "hellaswag/validation.jsonl"),
    `${hellaswag.map((r) => JSON.stringify(r)).join("\n")}\n`,
  );
  return dir;
}
