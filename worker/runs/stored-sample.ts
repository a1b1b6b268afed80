// A samples row as the API returns it: the stored record, the runner's device claim, and where a
// reused sample came from (DESIGN §7: reuse is shown, never silent).
import type { Sample } from "../protocol.ts";

export interface StoredSampleRow {
  record: string;
  reused: number;
  reused_from_run: string | null;
  runner: string | null;
}

export function storedSample(row: StoredSampleRow): Sample {
  const record = JSON.parse(row.record);
  const reused = row.reused === 1;
  return {
    ...record,
    device: record.device ?? null,
    reused,
    reused_from: reused ? { run_id: row.reused_from_run ?? "unknown", runner: row.runner } : null,
  };
}
