import { describe, expect, it } from "vitest";
import { EvalsError } from "./errors.ts";

class MissingThingError extends EvalsError {}

describe("EvalsError", () => {
  it("carries exit code 2 and the subclass name", () => {
    const error = new MissingThingError("no such file: a.json");
    expect(error.exitCode).toBe(2);
    expect(error.name).toBe("MissingThingError");
    expect(error).toBeInstanceOf(Error);
  });
});
