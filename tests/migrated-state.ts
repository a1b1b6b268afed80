// A fresh `wrangler dev` state folder whose D1 already holds every migration, for tests that start
// a local API (`startLocalApi({ persistTo, migrated: true })`). Applying the migrations is a
// wrangler start of its own (5–10 s on a 2-core machine); they are applied once per set of
// migration files and wrangler version, into a folder under the OS temp dir that every test file
// copies (a few hundred kB).
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { applyMigrations } from "../worker/dev.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** What the migrated state depends on: the migration files and the wrangler that applies them. */
function migrationsKey(): string {
  const hash = createHash("sha256");
  hash.update(
    JSON.parse(readFileSync(join(repoRoot, "node_modules/wrangler/package.json"), "utf8")).version,
  );
  const dir = join(repoRoot, "migrations");
  for (const name of readdirSync(dir).sort()) {
    hash.update(`\0${name}\0`);
    hash.update(readFileSync(join(dir, name)));
  }
  return hash.digest("hex").slice(0, 16);
}

/** A new folder under the temp dir holding a copy of the migrated state; the caller removes it. */
export async function migratedState(prefix = "evals-stack-"): Promise<string> {
  const template = join(tmpdir(), `evals-d1-migrated-${migrationsKey()}`);
  if (!existsSync(template)) {
    const building = mkdtempSync(`${template}-building-`);
    try {
      await applyMigrations(building);
      // Two test files may build it at once: the first rename wins, the other copy is dropped.
      renameSync(building, template);
    } catch (error) {
      rmSync(building, { recursive: true, force: true });
      if (!existsSync(template)) throw error;
    }
  }
  const state = mkdtempSync(join(tmpdir(), prefix));
  cpSync(template, state, { recursive: true });
  return state;
}
