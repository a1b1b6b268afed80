// Result reuse (DESIGN §7): a sample whose key matches one stored by any earlier run is copied,
// not recomputed — the same path resumes a crashed run and dedupes repeated runs. Across owners
// only samples a trusted runner produced are taken: anyone's untrusted runner could have lied.
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

/** Stored samples for `keys` that `owner` (a token id) may reuse: its own runs', or trusted ones. */
export async function findReusableSamples(
  env: Env,
  keys: readonly string[],
  owner: string,
): Promise<Map<string, ReusableSample>> {
  const found = new Map<string, ReusableSample>();
  if (keys.length === 0) return found;
  const statements = chunkJson(keys).map((chunk) =>
    env.DB.prepare(
      `SELECT s.result_key, s.record, s.correct, s.trusted, s.runner, s.run_id
       FROM samples s JOIN runs r ON r.id = s.run_id
       WHERE s.result_key IN (SELECT value FROM json_each(?)) AND s.reused = 0
         AND (s.trusted = 1 OR r.created_by = ?)
       ORDER BY s.trusted DESC`,
    ).bind(chunk, owner),
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
