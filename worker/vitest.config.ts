// Worker tests run inside workerd with real D1 and R2 (miniflare), migrations applied per file.
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const root = path.resolve(import.meta.dirname, "..");

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(root, "migrations"));
  return {
    plugins: [
      cloudflareTest({
        main: path.join(root, "worker/index.ts"),
        wrangler: { configPath: path.join(root, "wrangler.toml") },
        miniflare: {
          bindings: { TEST_MIGRATIONS: migrations, EVALS_ADMIN_TOKEN: "test-admin-token" },
        },
      }),
    ],
    test: {
      name: "worker",
      root,
      include: ["worker/**/*.test.ts"],
      setupFiles: ["worker/testing/apply-migrations.ts"],
      testTimeout: 60_000,
    },
  };
});
