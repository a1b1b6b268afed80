// Many rows in few statements: rows travel as one JSON parameter and SQLite's json_each unpacks
// them (D1 allows 100 bound parameters per statement, not thousands).

/** Keeps each statement's JSON parameter well under D1's 2 MB value limit. */
const MAX_CHUNK_CHARS = 900_000;

/**
 * `INSERT OR IGNORE INTO table (columns…)` for `rows`, as D1 statements to run in one batch.
 * Example: `insertRows(db, "blobs", ["sha256", "bytes"], [{ sha256, bytes }])`.
 */
export function insertRows(
  db: D1Database,
  table: string,
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
): D1PreparedStatement[] {
  const values = columns.map((column) => `json_extract(value, '$.${column}')`).join(", ");
  const sql = `INSERT OR IGNORE INTO ${table} (${columns.join(", ")}) SELECT ${values} FROM json_each(?)`;
  return chunkJson(rows).map((chunk) => db.prepare(sql).bind(chunk));
}

/** JSON arrays of the items, each under the size cap. */
export function chunkJson(items: readonly unknown[]): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const item of items) {
    const text = JSON.stringify(item);
    if (current.length && size + text.length + 1 > MAX_CHUNK_CHARS) {
      chunks.push(`[${current.join(",")}]`);
      current = [];
      size = 2;
    }
    current.push(text);
    size += text.length + 1;
  }
  if (current.length) chunks.push(`[${current.join(",")}]`);
  return chunks;
}
