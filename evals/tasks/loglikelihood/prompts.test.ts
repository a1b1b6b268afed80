// The (context, continuation) strings of each task's first three documents, written by hand from
// lm-eval v0.4.11's task YAMLs (the rule is quoted above each case), against the shared data.
import { describe, expect, it } from "vitest";
import { loadGeneralTaskData } from "../../data/general-datasets.ts";
import { getLoglikelihoodTask } from "./registry.ts";
import { buildDocumentRequests } from "./render.ts";
import type { DocumentRequests } from "./types.ts";

async function firstThree(name: string, numFewshot?: number): Promise<DocumentRequests[]> {
  const task = getLoglikelihoodTask(name)!;
  const data = await loadGeneralTaskData(task, { numFewshot });
  return buildDocumentRequests(task, data.docs, data.fewshotPool, {
    limit: 3,
    numFewshot,
    fewshotFromSameSplit: data.fewshotFromSameSplit,
  });
}

/** Same context for every choice; continuation = " " + choice (the default target_delimiter). */
function expectChoices(doc: DocumentRequests, context: string, choices: string[], gold: number) {
  expect(doc.requests).toEqual(choices.map((c) => ({ context, continuation: ` ${c}` })));
  expect(doc.choices).toEqual(choices);
  expect(doc.gold).toBe(gold);
}

describe("first three documents equal lm-eval's requests", () => {
  it('arc_easy: "Question: {{question}}\\nAnswer:", choices.text, choices.label.index(answerKey)', async () => {
    const [a, b, c] = await firstThree("arc_easy");
    expectChoices(
      a,
      "Question: Which statement best explains why photosynthesis is the foundation of most food webs?\nAnswer:",
      [
        "Sunlight is the source of energy for nearly all ecosystems.",
        "Most ecosystems are found on land instead of in water.",
        "Carbon dioxide is more available than other gases.",
        "The producers in all ecosystems are plants.",
      ],
      0,
    );
    expectChoices(
      b,
      "Question: Which piece of safety equipment is used to keep mold spores from entering the respiratory system?\nAnswer:",
      ["safety goggles", "breathing mask", "rubber gloves", "lead apron"],
      1,
    );
    expectChoices(
      c,
      "Question: Meiosis is a type of cell division in which germ cells divide to produce haploid cells. Where does meiosis occur?\nAnswer:",
      ["brain cells", "bone cells", "muscle cells", "ovary cells"],
      3,
    );
  });

  it("arc_challenge: arc_easy.yaml with dataset_name ARC-Challenge", async () => {
    const [a, b, c] = await firstThree("arc_challenge");
    expectChoices(
      a,
      "Question: An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most likely effect of this increase in rotation?\nAnswer:",
      [
        "Planetary density will decrease.",
        "Planetary years will become longer.",
        "Planetary days will become shorter.",
        "Planetary gravity will become stronger.",
      ],
      2,
    );
    expectChoices(
      b,
      "Question: A group of engineers wanted to know how different building designs would respond during an earthquake. They made several models of buildings and tested each for its ability to withstand earthquake conditions. Which will most likely result from testing different building designs?\nAnswer:",
      [
        "buildings will be built faster",
        "buildings will be made safer",
        "building designs will look nicer",
        "building materials will be cheaper",
      ],
      1,
    );
    expectChoices(
      c,
      "Question: The end result in the process of photosynthesis is the production of sugar and oxygen. Which step signals the beginning of photosynthesis?\nAnswer:",
      [
        "Chemical energy is absorbed through the roots.",
        "Light energy is converted to chemical energy.",
        "Chlorophyll in the leaf captures light energy.",
        "Sunlight is converted into chlorophyll.",
      ],
      2,
    );
  });

  it("openbookqa: doc_to_text question_stem, target choices.label.index(answerKey.lstrip())", async () => {
    const [a, b, c] = await firstThree("openbookqa");
    expectChoices(
      a,
      "A person wants to start saving money so that they can afford a nice vacation at the end of the year. After looking over their budget and expenses, they decide the best way to save money is to",
      [
        "make more phone calls",
        "quit eating lunch out",
        "buy less with monopoly money",
        "have lunch with friends",
      ],
      1,
    );
    expectChoices(
      b,
      "There is most likely going to be fog around:",
      ["a marsh", "a tundra", "the plains", "a desert"],
      0,
    );
    expectChoices(c, "Predators eat", ["lions", "humans", "bunnies", "grass"], 2);
  });

  it('piqa: "Question: {{goal}}\\nAnswer:", choices [sol1, sol2] verbatim, target label', async () => {
    const [a, b, c] = await firstThree("piqa");
    expectChoices(
      a,
      "Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:",
      [
        "Provide the guinea pig with a cage full of a few inches of bedding made of ripped paper strips, you will also need to supply it with a water bottle and a food dish.",
        "Provide the guinea pig with a cage full of a few inches of bedding made of ripped jeans material, you will also need to supply it with a water bottle and a food dish.",
      ],
      0,
    );
    expectChoices(
      b,
      "Question: dresser\nAnswer:",
      ["replace drawer with bobby pin ", "finish, woodgrain with  bobby pin "],
      1,
    );
    expectChoices(
      c,
      "Question: To fight Ivan Drago in Rocky for sega master system.\nAnswer:",
      [
        "Drago isn't in this game because it was released before Rocky IV.",
        "You have to defeat Apollo Creed and Clubber Lang first.",
      ],
      1,
    );
  });

  it('social_iqa: "Q: {{context}} {{question}}\\nA:", [answerA, answerB, answerC], (label|int) - 1', async () => {
    const [a, b, c] = await firstThree("social_iqa");
    expectChoices(
      a,
      "Q: Tracy didn't go home that evening and resisted Riley's attacks. What does Tracy need to do before this?\nA:",
      ["make a new plan", "Go home and see Riley", "Find somewhere to go"],
      2,
    );
    expectChoices(
      b,
      "Q: Sydney walked past a homeless woman asking for change but did not have any money they could give to her. Sydney felt bad afterwards. How would you describe Sydney?\nA:",
      ["sympathetic", "like a person who was unable to help", "incredulous"],
      0,
    );
    expectChoices(
      c,
      "Q: Sasha protected the patients' rights by making new laws regarding cancer drug trials. What will patients want to do next?\nA:",
      ["write new laws", "get petitions signed", "live longer"],
      1,
    );
  });

  it("winogrande: two contexts (sentence[:i] + option) against one continuation (' ' + sentence[i+1:].strip())", async () => {
    const [a, b, c] = await firstThree("winogrande");
    const prefix = "Sarah was a much better surgeon than Maria so ";
    expect(a.requests).toEqual([
      { context: `${prefix}Sarah`, continuation: " always got the easier cases." },
      { context: `${prefix}Maria`, continuation: " always got the easier cases." },
    ]);
    expect(a.gold).toBe(1);
    expect(b.requests).toEqual([
      { context: `${prefix}Sarah`, continuation: " always got the harder cases." },
      { context: `${prefix}Maria`, continuation: " always got the harder cases." },
    ]);
    expect(b.gold).toBe(0);
    const wine = "They were worried the wine would ruin the bed and the blanket, but the ";
    expect(c.requests).toEqual([
      { context: `${wine}blanket`, continuation: " was't ruined." },
      { context: `${wine}bed`, continuation: " was't ruined." },
    ]);
    expect(c.gold).toBe(1);
  });

  it("lambada_openai: text.split(' ')[:-1] joined by ' ' / ' ' + the last piece, no delimiter", async () => {
    const task = getLoglikelihoodTask("lambada_openai")!;
    const data = await loadGeneralTaskData(task);
    const docs = await firstThree("lambada_openai");
    const lasts = [" signs", " Shane", " insurance"];
    docs.forEach((doc, i) => {
      const text = data.docs[i].text as string;
      expect(text.endsWith(lasts[i].slice(1))).toBe(true);
      expect(doc.requests).toEqual([
        { context: text.slice(0, -lasts[i].length), continuation: lasts[i] },
      ]);
    });
    expect(
      docs[0].requests[0].context.endsWith(
        "his mouth curved in a confident grin, I don't care about",
      ),
    ).toBe(true);
  });

  it("asdiv: \"{{body}}\\nQuestion:{{question}}\\nAnswer:\" / answer.split(' (')[0], no delimiter", async () => {
    const docs = await firstThree("asdiv");
    expect(docs.map((d) => d.requests)).toEqual([
      [
        {
          context:
            "Seven red apples and two green apples are in the basket.\nQuestion:How many apples are in the basket?\nAnswer:",
          continuation: "9",
        },
      ],
      [
        {
          context:
            "Ellen has six more balls than Marin. Marin has nine balls.\nQuestion:How many balls does Ellen have?\nAnswer:",
          continuation: "15",
        },
      ],
      [
        {
          context:
            "Janet has nine oranges and Sharon has seven oranges.\nQuestion:How many oranges do Janet and Sharon have together? \nAnswer:",
          continuation: "16",
        },
      ],
    ]);
  });

  const MMLU_DESCRIPTION =
    "The following are multiple choice questions (with answers) about abstract algebra.\n\n";
  it("mmlu_abstract_algebra: description + question.strip() + \\nA. … \\nD. … \\nAnswer:, choices A-D", async () => {
    const [a, b, c] = await firstThree("mmlu_abstract_algebra");
    const letters = ["A", "B", "C", "D"];
    expectChoices(
      a,
      `${MMLU_DESCRIPTION}Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\nA. 0\nB. 4\nC. 2\nD. 6\nAnswer:`,
      letters,
      1,
    );
    expectChoices(
      b,
      `${MMLU_DESCRIPTION}Let p = (1, 2, 5, 4)(2, 3) in S_5 . Find the index of <p> in S_5.\nA. 8\nB. 2\nC. 24\nD. 120\nAnswer:`,
      letters,
      2,
    );
    expectChoices(
      c,
      `${MMLU_DESCRIPTION}Find all zeros in the indicated finite field of the given polynomial with coefficients in that field. x^5 + 3x^3 + x^2 + 2x in Z_5\nA. 0\nB. 1\nC. 0,1\nD. 0,4\nAnswer:`,
      letters,
      3,
    );
  });

  it("mmlu with --num-fewshot 1: the first dev row of the subject (first_n), then '\\n\\n'", async () => {
    const [a] = await firstThree("mmlu_abstract_algebra", 1);
    expect(a.requests[0].context).toBe(
      `${MMLU_DESCRIPTION}Find all c in Z_3 such that Z_3[x]/(x^2 + c) is a field.\nA. 0\nB. 1\nC. 2\nD. 3\nAnswer: B\n\n` +
        "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\nA. 0\nB. 4\nC. 2\nD. 6\nAnswer:",
    );
  });
});
