// A run's samples as CSV (RFC 4180): one row per (task, r, document) with what a spreadsheet
// triage needs; the JSONL download carries every field of every record instead.
import type { Sample } from "../protocol.ts";

export const SAMPLE_CSV_COLUMNS = [
  "task",
  "r",
  "doc_index",
  "doc_id",
  "correct",
  "primary_metric",
  "extracted",
  "prompt_tokens",
  "prompt_truncated",
  "generated_tokens",
  "hit_token_cap",
  "flops",
  "backend",
  "device",
  "runner_version",
  "ms",
  "reused",
  "completion",
] as const;

/** Quotes a field when it holds a comma, quote or line break (quotes doubled). */
export function csvField(value: string | number | boolean | null): string {
  const text = value === null ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function samplesCsv(
  samples: readonly Sample[],
  primaryMetric: (task: string) => string,
  tokenCap: (task: string) => number | null,
): string {
  const lines = [SAMPLE_CSV_COLUMNS.join(",")];
  for (const s of samples) {
    const metric = primaryMetric(s.task);
    const filter = metric.split(",")[1];
    const cap = tokenCap(s.task);
    const row = [
      s.task,
      s.recurrences,
      s.doc_index,
      s.doc_id,
      s.metrics[metric] ?? null,
      metric,
      filter ? (s.extracted[filter] ?? null) : null,
      s.prompt_tokens,
      s.prompt_truncated,
      s.generated_tokens,
      cap !== null && s.generated_tokens >= cap,
      s.flops,
      s.backend,
      s.device,
      s.runner_version,
      s.ms,
      s.reused,
      s.completion,
    ];
    lines.push(row.map(csvField).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}
