import { describe, expect, it } from "vitest";
import { sharedDir } from "../../model/testing/stories.ts";
import { loadTaskData } from "../data/datasets.ts";
import { getTask, listTasks, UnknownTaskError } from "./registry.ts";
import { buildRequests, sha256Hex, taskHash } from "./render.ts";

// Expected prompts for the first three test documents of each task. They were rendered by a short
// Python script that follows lm-eval's task YAMLs (lm_eval/tasks/gsm8k/gsm8k.yaml, gsm8k-cot.yaml,
// gsm8k-cot-llama.yaml) and its prompt assembly: description + fewshot_delimiter.join(doc_to_text(ex)
// + target_delimiter + doc_to_target(ex)) + fewshot_delimiter + doc_to_text(doc), with the `gsm8k`
// exemplars drawn by Python's random.Random(1234).sample(train, 5) once per document in order,
// and the cot tasks' exemplars taken first_n from the exemplar files in ../shared/datasets/gsm8k.
// The YAML single-quoted 'Q: {{question}}\n\n  A:' folds to "Q: …\nA:". Full prompts are a few KB,
// so the test keeps their sha256, length, first 60 and last 80 characters.
const EXPECTED: Record<string, { sha256: string; length: number; head: string; tail: string }[]> = {
  gsm8k: [
    {
      sha256: "32680f263ba83280e98a8a24ceefed10a722a4cdcd9f4d78e93c45d43143ca66",
      length: 3187,
      head: "Question: Jen and Tyler are gymnasts practicing flips. Jen i",
      tail: "egg. How much in dollars does she make every day at the farmers' market?\nAnswer:",
    },
    {
      sha256: "e6b9a0195411932e5323ed20ad05e965b08b979103bbb26594a5bdf123d27990",
      length: 3320,
      head: "Question: Steve finds 100 gold bars while visiting Oregon. H",
      tail: "r and half that much white fiber.  How many bolts in total does it take?\nAnswer:",
    },
    {
      sha256: "97eb2662b11bbd7bd0423f898efde0e9a04d22028ed5fc1f80576965b0f570fa",
      length: 3257,
      head: "Question: Tom can type 90 words a minute.  A page is 450 wor",
      tail: " increased the value of the house by 150%.  How much profit did he make?\nAnswer:",
    },
  ],
  gsm8k_cot: [
    {
      sha256: "901fead9abd2535b6d0610c3c90125f38cad81678c4b2b98ec8fb818e3948bde",
      length: 2427,
      head: "Q: There are 15 trees in the grove. Grove workers will plant",
      tail: "duck egg. How much in dollars does she make every day at the farmers' market?\nA:",
    },
    {
      sha256: "d8ef3245c80f640811539185b957683e5036aab3d96e0ecf13cd5728c88cf30f",
      length: 2252,
      head: "Q: There are 15 trees in the grove. Grove workers will plant",
      tail: " fiber and half that much white fiber.  How many bolts in total does it take?\nA:",
    },
    {
      sha256: "dc37b83aca6e54ce0ed7be37efa94c2ba8f01755955ff2c04344d5acd546492b",
      length: 2328,
      head: "Q: There are 15 trees in the grove. Grove workers will plant",
      tail: " This increased the value of the house by 150%.  How much profit did he make?\nA:",
    },
  ],
  gsm8k_cot_sean: [
    {
      sha256: "8f3071151bd2834662f2d39c64367f45b4fc07270f73fe7e9bea88739da9a5b2",
      length: 664,
      head: "Q: There are 15 trees in the grove. Grove workers will plant",
      tail: "ars does she make every day at the farmers' market?\nA: Let's think step by step.",
    },
    {
      sha256: "bd709288ac5fc253662d76c1aee68bbfaa4762efc633c000744e8aef28721362",
      length: 489,
      head: "Q: There are 15 trees in the grove. Grove workers will plant",
      tail: "white fiber.  How many bolts in total does it take?\nA: Let's think step by step.",
    },
    {
      sha256: "0f881a253683b1d72f6f04edbb82d901392aba423b0b8b2f5473d62ddd597ff5",
      length: 565,
      head: "Q: There are 15 trees in the grove. Grove workers will plant",
      tail: "of the house by 150%.  How much profit did he make?\nA: Let's think step by step.",
    },
  ],
  gsm8k_cot_llama: [
    {
      sha256: "3635ed503b051fc6eca7cc9bb4aaec3939a689d5be3935082529d9f83f9a02fb",
      length: 4151,
      head: "Given the following problem, reason and give a final answer ",
      tail: 'h "The final answer is [answer]" where [answer] is the response to the problem.\n',
    },
    {
      sha256: "1300def1528850eda4eb84477c517238a97c80ad635509c0be060c0f7b06e0dc",
      length: 3976,
      head: "Given the following problem, reason and give a final answer ",
      tail: 'h "The final answer is [answer]" where [answer] is the response to the problem.\n',
    },
    {
      sha256: "c1ccbd1137970852c0adec47cb60fa9474f6fa2732f0bf38bc0e5ad6027bda3d",
      length: 4052,
      head: "Given the following problem, reason and give a final answer ",
      tail: 'h "The final answer is [answer]" where [answer] is the response to the problem.\n',
    },
  ],
};

describe("prompts equal lm-eval's rendering", () => {
  it.each(Object.keys(EXPECTED))("%s: first three documents", async (name) => {
    const task = getTask(name);
    const data = await loadTaskData(task, { dataDir: `${sharedDir}/datasets` });
    const requests = await buildRequests(task, data.docs, data.fewshotPool, { limit: 3 });
    expect(requests).toHaveLength(3);
    for (const [i, request] of requests.entries()) {
      const expected = EXPECTED[name][i];
      expect(request.prompt.slice(0, 60)).toBe(expected.head);
      expect(request.prompt.slice(-80)).toBe(expected.tail);
      expect(request.prompt.length).toBe(expected.length);
      expect(await sha256Hex(request.prompt)).toBe(expected.sha256);
    }
  });

  it("renders gsm8k_cot_sean's one-shot prompt in full", async () => {
    const task = getTask("gsm8k_cot_sean");
    const data = await loadTaskData(task, { dataDir: `${sharedDir}/datasets` });
    const [request] = await buildRequests(task, data.docs, data.fewshotPool, { limit: 1 });
    const question = String(data.docs[0].question);
    expect(request.prompt).toBe(
      "Q: There are 15 trees in the grove. Grove workers will plant trees in the grove today. After they are done, there will be 21 trees. How many trees did the grove workers plant today?\n" +
        "A: Let's think step by step. There are 15 trees originally. Then there were 21 trees after some more were planted. So there must have been 21 - 15 = 6. The answer is 6.\n\n" +
        `Q: ${question}\nA: Let's think step by step.`,
    );
    expect(request.gold).toMatch(/#### 18$/);
    expect(request.docId).toBe("gsm8k/0");
  });

  it("--num-fewshot overrides the count and changes the task hash", async () => {
    const task = getTask("gsm8k_cot");
    const data = await loadTaskData(task, { dataDir: `${sharedDir}/datasets` });
    const [zero] = await buildRequests(task, data.docs, data.fewshotPool, {
      limit: 1,
      numFewshot: 0,
    });
    expect(zero.prompt).toBe(`Q: ${String(data.docs[0].question)}\nA:`);
    expect(await taskHash(task, 0)).not.toBe(await taskHash(task, 8));
    await expect(
      buildRequests(task, data.docs, data.fewshotPool, { numFewshot: 9 }),
    ).rejects.toThrow(/8 fixed exemplars/);
  });

  it("names the known tasks when one is unknown, and where it looked for missing data", async () => {
    expect(() => getTask("gsm9k")).toThrow(UnknownTaskError);
    expect(() => getTask("gsm9k")).toThrow(/known tasks: gsm8k, gsm8k_cot/);
    expect(listTasks()).toContain("gsm8k_cot_sean");
    const previous = process.env.EVALS_DATA_DIR;
    process.env.EVALS_DATA_DIR = "/nonexistent/evals-data";
    try {
      const task = {
        ...getTask("gsm8k_cot"),
        dataset: { name: "nosuch" as never, split: "test" as const },
      };
      await expect(loadTaskData(task, { dataDir: "/nonexistent/explicit" })).rejects.toThrow(
        /looked in \/nonexistent\/explicit\/nosuch\/test\.jsonl, \/nonexistent\/evals-data\/nosuch\/test\.jsonl/,
      );
    } finally {
      if (previous === undefined) delete process.env.EVALS_DATA_DIR;
      else process.env.EVALS_DATA_DIR = previous;
    }
  }, 60_000);
});
