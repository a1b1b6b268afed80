import { defineConfig } from "vitest/config";

// Node-side tests. Worker tests run in real workerd through their own project (worker/vitest.config.ts).
// Files named `*.long.test.ts` start `wrangler dev`, Chromium or WebGPU on SwiftShader (or fault
// scenarios that wait on leases): `npm test` (CI) runs them, `npm run test:quick` skips them.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["{model,evals,runner,dashboard,tests}/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          pool: "forks",
        },
      },
      "worker/vitest.config.ts",
    ],
  },
});
