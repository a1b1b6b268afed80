import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sharedDir } from "../../model/testing/stories.ts";
import { DatasetNotFoundError, loadTaskData } from "../data/datasets.ts";
import { getTask, listTasks } from "./registry.ts";
import { buildRequests, sha256Hex, taskHash } from "./render.ts";

const dataDir = `${sharedDir}/datasets`;

// Expected prompts for the first three test documents of each MATH task, rendered by a short Python
// script (jinja2 + PyYAML, outside the repository) that follows lm-eval rather than our code:
// it loads lm_eval/tasks/minerva_math/minerva_math_algebra.yaml and
// hendrycks_math/hendrycks_math_algebra.yaml, renders `doc_to_text`/`doc_to_target` with jinja2 as
// lm-eval does (minerva's doc_to_text is utils.doc_to_text: "Problem:\n" + problem +
// "\n\nSolution:"), takes the minerva exemplars from utils.list_fewshot_samples (each carries
// `few_shot`, so its target is the full solution), and assembles them as ContextSampler.get_context
// and Task.fewshot_context do with TaskConfig's defaults: description "" + each exemplar as
// doc_to_text + " " + doc_to_target + "\n\n", then doc_to_text of the document. The script also
// checked that ../shared/datasets/math/fewshot_minerva_math_4shot.jsonl equals lm-eval's
// list_fewshot_samples field for field (question → problem, answer → solution). minerva_math500
// includes minerva_math_algebra.yaml, so math500 is the same prompt over MATH-500.
// Full prompts are ~2 KB: the test keeps their sha256, length, first 60 and last 80 characters.
const EXPECTED: Record<string, { sha256: string; length: number; head: string; tail: string }[]> = {
  minerva_math: [
    {
      sha256: "2501cf7d4400573766c7fec99b85340d4ba4ca20ebc6fe941eb2189ce342db82",
      length: 1886,
      head: "Problem:\nFind the domain of the expression  $\\frac{\\sqrt{x-2",
      tail: "any vertical asymptotes does the graph of $y=\\frac{2}{x^2+x-6}$ have?\n\nSolution:",
    },
    {
      sha256: "6aa08333bed36a80730269add3d25477eb718dbbacad2ed9838764d2511bdc74",
      length: 1884,
      head: "Problem:\nFind the domain of the expression  $\\frac{\\sqrt{x-2",
      tail: "t is the positive difference between $120\\%$ of 30 and $130\\%$ of 20?\n\nSolution:",
    },
    {
      sha256: "76b24bef420a5df0dcd9d5812b5636b2d1bfc089eb657b178eb6671aff4749a8",
      length: 1903,
      head: "Problem:\nFind the domain of the expression  $\\frac{\\sqrt{x-2",
      tail: "ceil x \\rceil + x = \\dfrac{23}{7}$. Express $x$ as a common fraction.\n\nSolution:",
    },
  ],
  hendrycks_math: [
    {
      sha256: "ec43418a8f2c727844d1586ebe095733b745c61116ee729c7590232d98f00c1f",
      length: 91,
      head: "Problem: How many vertical asymptotes does the graph of $y=\\",
      tail: "w many vertical asymptotes does the graph of $y=\\frac{2}{x^2+x-6}$ have?\nAnswer:",
    },
    {
      sha256: "ffe4f01dcdeea0f2821829d77880f76482bc567bfd4b2470864f025d153e0aef",
      length: 89,
      head: "Problem: What is the positive difference between $120\\%$ of ",
      tail: "What is the positive difference between $120\\%$ of 30 and $130\\%$ of 20?\nAnswer:",
    },
    {
      sha256: "7b0d4cd97dfe4b2ce0dd7ffa7904986d487d37848ab077d14e558bf50a948b58",
      length: 108,
      head: "Problem: Find $x$ such that $\\lceil x \\rceil + x = \\dfrac{23",
      tail: "$\\lceil x \\rceil + x = \\dfrac{23}{7}$. Express $x$ as a common fraction.\nAnswer:",
    },
  ],
  math500: [
    {
      sha256: "4bd892f8fbe87b969e2a46990861afab2a7aeee3caaa5e8f6da7363905f0e57d",
      length: 1973,
      head: "Problem:\nFind the domain of the expression  $\\frac{\\sqrt{x-2",
      tail: "r in the form $(r,\\theta),$ where $r > 0$ and $0 \\le \\theta < 2 \\pi.$\n\nSolution:",
    },
    {
      sha256: "45379efbd2130fe784489db836219316d0cada0b707d09cb8c4b7665c883ab55",
      length: 2029,
      head: "Problem:\nFind the domain of the expression  $\\frac{\\sqrt{x-2",
      tail: "fty \\sum_{k = 1}^\\infty \\frac{1}{(j + k)^3}\\]in terms of $p$ and $q.$\n\nSolution:",
    },
    {
      sha256: "d67428a3cdba3aab5bf21d14e28a8ac4256bb77361b8fb721f100c441d6d72b6",
      length: 1925,
      head: "Problem:\nFind the domain of the expression  $\\frac{\\sqrt{x-2",
      tail: "lue of $f(-2) +f(-1)+f(0)$? Express your answer as a common fraction.\n\nSolution:",
    },
  ],
};

describe("MATH prompts equal lm-eval's rendering", () => {
  it.each(Object.keys(EXPECTED))("%s: first three documents", async (name) => {
    const task = getTask(name);
    const data = await loadTaskData(task, { dataDir });
    const requests = await buildRequests(task, data.docs, data.fewshotPool, { limit: 3 });
    expect(requests).toHaveLength(3);
    for (const [i, request] of requests.entries()) {
      const expected = EXPECTED[name][i];
      expect(request.prompt.slice(0, 60)).toBe(expected.head);
      expect(request.prompt.slice(-80)).toBe(expected.tail);
      expect(request.prompt.length).toBe(expected.length);
      expect(await sha256Hex(request.prompt)).toBe(expected.sha256);
      expect(request.gold).toBe(data.docs[i].solution);
    }
  });

  it("renders minerva_math's one-shot prompt (the paper's setting) in full", async () => {
    const task = getTask("minerva_math");
    const data = await loadTaskData(task, { dataDir });
    const [request] = await buildRequests(task, data.docs, data.fewshotPool, {
      limit: 1,
      numFewshot: 1,
    });
    expect(request.prompt).toBe(
      "Problem:\nFind the domain of the expression  $\\frac{\\sqrt{x-2}}{\\sqrt{5-x}}$.}\n\n" +
        "Solution: The expressions inside each square root must be non-negative. Therefore, $x-2 \\ge 0$, so $x\\ge2$, and $5 - x \\ge 0$, so $x \\le 5$. Also, the denominator cannot be equal to zero, so $5-x>0$, which gives $x<5$. Therefore, the domain of the expression is $\\boxed{[2,5)}$.\n" +
        "Final Answer: The final answer is $[2,5)$. I hope it is correct.\n\n" +
        "Problem:\nHow many vertical asymptotes does the graph of $y=\\frac{2}{x^2+x-6}$ have?\n\nSolution:",
    );
    expect(request.docId).toBe("math/0");
  });

  it("uses the YAMLs' generation settings and distinct hashes", async () => {
    expect(listTasks()).toEqual(
      expect.arrayContaining(["minerva_math", "hendrycks_math", "math500"]),
    );
    for (const name of ["minerva_math", "hendrycks_math", "math500"]) {
      const task = getTask(name);
      expect(task.until).toEqual(["Problem:"]);
      expect(task.maxGenToks).toBe(256);
      expect(task.goldField).toBe("solution");
    }
    expect(getTask("minerva_math").defaultNumFewshot).toBe(4);
    expect(getTask("math500").defaultNumFewshot).toBe(4);
    expect(getTask("hendrycks_math").defaultNumFewshot).toBe(0);
    // The worker registers exemplar files under plain names, so math500 names the same one.
    for (const name of ["minerva_math", "math500"]) {
      expect(getTask(name).fewshot).toMatchObject({ file: "fewshot_minerva_math_4shot.jsonl" });
    }
    const hashes = await Promise.all(
      ["minerva_math", "hendrycks_math", "math500"].map((name) => taskHash(getTask(name))),
    );
    expect(new Set(hashes).size).toBe(3);
    expect(await taskHash(getTask("minerva_math"), 1)).not.toBe(hashes[0]);
  });

  it("loads all 5,000 MATH and 500 MATH-500 problems with their exemplars", async () => {
    const math = await loadTaskData(getTask("minerva_math"), { dataDir });
    expect(math.docs).toHaveLength(5000);
    expect(math.fewshotPool).toHaveLength(4);
    const math500 = await loadTaskData(getTask("math500"), { dataDir });
    expect(math500.docs).toHaveLength(500);
    expect(math500.fewshotPool).toEqual(math.fewshotPool);
    const hendrycks = await loadTaskData(getTask("hendrycks_math"), { dataDir });
    expect(hendrycks.fewshotPool).toBeNull();
  });
});

describe("MATH tasks score with lm-eval's scorers", () => {
  // Document 0's solution ends "... the graph has $\\boxed{2}$ vertical asymptotes."
  const boxedOnly = "The denominator is $(x-2)(x+3)$, so there are $\\boxed{2}$ asymptotes.";
  const minervaStyle =
    "So there are two.\nFinal Answer: The final answer is $2$. I hope it is correct.";

  it("minerva_math and math500 read the Final Answer line; hendrycks_math the text between $s", async () => {
    const data = await loadTaskData(getTask("minerva_math"), { dataDir });
    const solution = String(data.docs[0].solution);
    for (const name of ["minerva_math", "math500"]) {
      expect(getTask(name).score(minervaStyle, solution).metrics.exact_match).toBe(1);
      // No "Final Answer: The final answer is" line: minerva's extraction finds nothing.
      expect(getTask(name).score(boxedOnly, solution).metrics.exact_match).toBe(0);
    }
    const hendrycks = getTask("hendrycks_math");
    // lm-eval main never unboxes the prediction; our exact_match,fixed takes the box first.
    expect(hendrycks.score(boxedOnly, solution)).toEqual({
      extracted: {
        exact_match: "(x-2)(x+3)$, so there are $\\boxed{2}",
        "exact_match,fixed": "2",
      },
      metrics: { exact_match: 0, "exact_match,fixed": 1 },
    });
    expect(hendrycks.score(" $2$", solution).metrics.exact_match).toBe(1);
    expect(hendrycks.score(" $3$", solution).metrics.exact_match).toBe(0);
  });
});

describe("MATH bad inputs", () => {
  const scratch = mkdtempSync(join(tmpdir(), "evals-math-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("refuses more exemplars than minerva's four, and any for hendrycks_math", async () => {
    const minerva = getTask("minerva_math");
    const data = await loadTaskData(minerva, { dataDir });
    await expect(
      buildRequests(minerva, data.docs, data.fewshotPool, { limit: 1, numFewshot: 5 }),
    ).rejects.toThrow(/minerva_math has 4 fixed exemplars; --num-fewshot 5 is too many/);
    const hendrycks = getTask("hendrycks_math");
    await expect(
      buildRequests(hendrycks, data.docs, null, { limit: 1, numFewshot: 1 }),
    ).rejects.toThrow(/hendrycks_math has no few-shot exemplars here; use --num-fewshot 0/);
  });

  it("names the missing exemplar file when math500 has no math/ beside it", async () => {
    symlinkSync(join(dataDir, "math500"), join(scratch, "math500"));
    await expect(loadTaskData(getTask("math500"), { dataDir: scratch })).rejects.toThrow(
      DatasetNotFoundError,
    );
    await expect(loadTaskData(getTask("math500"), { dataDir: scratch })).rejects.toThrow(
      `missing dataset file ${join(scratch, "math/fewshot_minerva_math_4shot.jsonl")}`,
    );
  });

  it("says which field a document lacks", async () => {
    const task = getTask("minerva_math");
    const data = await loadTaskData(task, { dataDir });
    await expect(
      buildRequests(task, [{ question: "1+1?", solution: "$\\boxed{2}$" }], data.fewshotPool, {}),
    ).rejects.toThrow(/no text field "problem"/);
    await expect(
      buildRequests(task, [{ problem: "1+1?", answer: "2" }], data.fewshotPool, {}),
    ).rejects.toThrow(/no "solution" field/);
  });
});
