import { defineConfig } from "vitest/config";

// Three projects, run one group after another:
// 0. `node`: model, tasks, scoring, engine and CLI tests — two files at a time (most are light,
//    or wait on a subprocess), which is where a 2-core machine gains from running files together;
// 1. `worker`: the API in real workerd (worker/vitest.config.ts), one workerd for all files;
// 2. `long`: files named `*.long.test.ts`, which start `wrangler dev`, Chromium or WebGPU on
//    SwiftShader, or wait out leases in fault scenarios — one at a time, since each already keeps
//    the machine busy. `npm run test:quick` runs the first two.
const node = {
  include: ["{model,evals,runner,dashboard,tests}/**/*.test.ts"],
  testTimeout: 120_000,
  hookTimeout: 300_000,
  pool: "forks" as const,
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...node,
          name: "node",
          exclude: ["**/*.long.test.ts", "**/node_modules/**"],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      "worker/vitest.config.ts",
      {
        test: {
          ...node,
          name: "long",
          include: ["{model,evals,runner,dashboard,tests}/**/*.long.test.ts"],
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
