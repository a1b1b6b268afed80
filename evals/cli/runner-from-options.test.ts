// The options `evals runner` and `evals dev` share: a bad value is refused by flag before anything
// starts (no browser, no API call), and a command that lacks an option gets the runner's default.
import { describe, expect, it } from "vitest";
import { Runner } from "../../runner/runner.ts";
import { EvalsError } from "../errors.ts";
import { runnerFromOptions } from "./runner-from-options.ts";

const connection = { api: "http://127.0.0.1:9", token: "t", once: true };
const base = { backend: "wasm" as const, cacheDir: "/nonexistent/evals-cache" };

describe("runnerFromOptions", () => {
  it("builds a runner from `evals dev`'s few options, the rest defaulted", () => {
    expect(runnerFromOptions(base, { ...connection, maxIdleMs: 2_000 })).toBeInstanceOf(Runner);
  });

  it.each([
    [{ pages: "0" }, /--pages 0 must be between 1 and 64/],
    [{ batchSize: "four" }, /--batch-size "four" must be an integer/],
    [{ threads: "65" }, /--threads 65 must be between 1 and 64/],
    [{ shardTimeout: "0" }, /--shard-timeout 0 must be between 1/],
    [{ cacheMaxGb: "-1" }, /--cache-max-gb "-1" must be > 0/],
  ])("refuses %o by its flag", (bad, message) => {
    const build = () => runnerFromOptions({ ...base, ...bad }, connection);
    expect(build).toThrow(EvalsError);
    expect(build).toThrow(message);
  });
});
