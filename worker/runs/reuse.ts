// Result reuse (DESIGN §7): a sample whose key matches one stored by any earlier run is copied,
// not recomputed — the same path resumes a crashed run and dedupes repeated runs.
import type { Env } from "../env.ts";
import { chunkJson } from "../storage/json-rows.ts";

export interface ReusableSample {
  /** The stored record JSON (SampleRecord plus `device`). */
  record: Record<string, unknown>;
  correct: number;
  trusted: number;
  runner: string | null;
  /** The run that computed it. */
  run_id: string;
}

export async function findReusableSamples(
  env: Env,
  keys: readonly string[],
): Promise<Map<string, ReusableSample>> {
  const found = new Map<string, ReusableSample>();
  if (keys.length === 0) return found;
  const statements = chunkJson(keys).map((chunk) =>
    env.DB.prepare(
      "SELECT result_key, record, correct, trusted, runner, run_id FROM samples WHERE result_key IN (SELECT value FROM json_each(?)) AND reused = 0",
    ).bind(chunk),
  );
  const results = await env.DB.batch<{
    result_key: string;
    record: string;
    correct: number;
    trusted: number;
    runner: string | null;
    run_id: string;
  }>(statements);
  for (const { results: rows } of results) {
    for (const row of rows) {
      if (found.has(row.result_key)) continue;
      found.set(row.result_key, { ...row, record: JSON.parse(row.record) });
    }
  }
  return found;
}
