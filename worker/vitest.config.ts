// Worker tests run inside workerd with real D1 and R2 (miniflare), migrations applied per file.
import { readFileSync } from "node:fs";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const root = path.resolve(import.meta.dirname, "..");

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(root, "migrations"));
  // Real GSM8K files for prompts built server-side (the repo never holds a copy).
  const gsm8k = path.join(root, "../shared/datasets/gsm8k");
  const read = (file: string) => readFileSync(path.join(gsm8k, file), "utf8");
  return {
    plugins: [
      cloudflareTest({
        main: path.join(root, "worker/index.ts"),
        wrangler: { configPath: path.join(root, "wrangler.toml") },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            TEST_GSM8K_TEST: read("test.jsonl"),
            TEST_GSM8K_COT_FEWSHOT: read("fewshot_gsm8k_cot_8shot.jsonl"),
            EVALS_ADMIN_TOKEN: "test-admin-token",
          },
        },
      }),
    ],
    test: {
      name: "worker",
      root,
      include: ["worker/**/*.test.ts"],
      setupFiles: ["worker/testing/apply-migrations.ts"],
      // One workerd for all files instead of one per file (its start and the import of the app
      // were most of this project's time). Each test still starts from empty storage (the setup
      // file resets it), and the app's caches are keyed by ids no two tests share.
      isolate: false,
      // Files share that workerd and its storage, so they run one after another, after the node
      // project's group (vitest.config.ts).
      maxWorkers: 1,
      sequence: { groupOrder: 1 },
      testTimeout: 60_000,
    },
  };
});
