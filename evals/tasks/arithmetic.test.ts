// The built-in arithmetic task: the same documents on every machine, correct answers, and scored
// exactly like gsm8k_cot_sean.
import { describe, expect, it } from "vitest";
import { loadTaskData } from "../data/datasets.ts";
import {
  ARITHMETIC_TASK,
  arithmeticDatasetFile,
  arithmeticExemplars,
  arithmeticTestDocs,
} from "./arithmetic.ts";
import { getTask } from "./registry.ts";
import { buildRequests } from "./render.ts";

describe("arithmetic_word_problems", () => {
  it("generates the same documents every time, each with a correct answer", () => {
    const docs = arithmeticTestDocs();
    expect(docs).toEqual(arithmeticTestDocs());
    expect(docs).toHaveLength(500);
    expect(new Set(docs.map((d) => d.question)).size).toBeGreaterThan(450);
    for (const doc of docs) {
      const answer = String(doc.answer);
      const [, lhs, op, rhs, result] =
        /(\d+) ([-+*/]) (\d+) = (\d+)\.\n#### (\d+)$/.exec(answer) ?? [];
      const [x, y] = [Number(lhs), Number(rhs)];
      const expected = { "+": x + y, "-": x - y, "*": x * y, "/": x / y }[op as "+"];
      expect(Number(result), answer).toBe(expected);
      expect(answer.endsWith(`#### ${expected}`)).toBe(true);
    }
  });

  it("scores its own answer right and another number wrong, as gsm8k_cot does", () => {
    const doc = arithmeticTestDocs(1)[0];
    const gold = String(doc.answer);
    const n = gold.split("#### ")[1];
    const right = ARITHMETIC_TASK.score(`So the result is ${n}. The answer is ${n}.`, gold);
    expect(right.metrics).toMatchObject({
      "exact_match,strict-match": 1,
      "exact_match,flexible-extract": 1,
    });
    const wrong = ARITHMETIC_TASK.score(`The answer is ${Number(n) + 1}.`, gold);
    expect(wrong.metrics["exact_match,flexible-extract"]).toBe(0);
  });

  it("loads with no data directory at all and renders gsm8k_cot_sean's prompt shape", async () => {
    const task = getTask("arithmetic_word_problems");
    const data = await loadTaskData(task, { dataDir: "/nonexistent" });
    expect(data.source).toMatch(/generated/);
    const [request] = await buildRequests(task, data.docs, data.fewshotPool, { limit: 1 });
    const exemplar = arithmeticExemplars(1)[0];
    expect(request.prompt).toBe(
      `Q: ${exemplar.question}\nA: Let's think step by step. ${exemplar.answer}\n\n` +
        `Q: ${data.docs[0].question}\nA: Let's think step by step.`,
    );
  });

  it("serves its files as JSONL for the API, and nothing else", () => {
    expect(arithmeticDatasetFile("test.jsonl")?.split("\n")).toHaveLength(501);
    expect(arithmeticDatasetFile("fewshot.jsonl")?.split("\n")).toHaveLength(9);
    expect(arithmeticDatasetFile("train.jsonl")).toBeNull();
  });
});
