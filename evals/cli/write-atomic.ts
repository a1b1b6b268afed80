// Results files are replaced whole or not at all: a failed or interrupted write must never leave a
// truncated file where a valid one was.
import { renameSync, rmSync, writeFileSync } from "node:fs";

export function writeFileAtomic(path: string, contents: string): void {
  const staging = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(staging, contents);
    renameSync(staging, path);
  } catch (error) {
    rmSync(staging, { force: true });
    throw error;
  }
}
