// The columns of a `samples` row that posting a result and reusing one both write (a reused row
// adds `reused_from_run`).
export const SAMPLE_COLUMNS = [
  "run_id",
  "task",
  "doc_index",
  "recurrences",
  "result_key",
  "record",
  "correct",
  "trusted",
  "runner",
  "reused",
  "created_at",
] as const;
