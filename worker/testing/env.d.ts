// Types of the test-only bindings (worker/vitest.config.ts) and of `cloudflare:test`'s env.
/// <reference types="@cloudflare/vitest-pool-workers/types" />
import type { D1Migration } from "cloudflare:test";
import type { Env as WorkerEnv } from "../env.ts";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
      TEST_GSM8K_TEST: string;
      TEST_GSM8K_COT_FEWSHOT: string;
    }
  }
}
