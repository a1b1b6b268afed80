// HellaSwag's process_docs on rows built here and on the real partial validation rows in shared,
// and the loader reading Rowan/hellaswag-layout rows from a data directory.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sharedDir } from "../../../model/testing/stories.ts";
import { DatasetNotFoundError } from "../../data/datasets.ts";
import { loadGeneralTaskData } from "../../data/general-datasets.ts";
import { hellaswagPreprocess, pythonCapitalize } from "./hellaswag.ts";
import { getLoglikelihoodTask } from "./registry.ts";
import { buildDocumentRequests } from "./render.ts";

const work = mkdtempSync(join(tmpdir(), "evals-hellaswag-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const task = getLoglikelihoodTask("hellaswag")!;

// Rows in the HF layout (ind, activity_label, ctx_a, ctx_b, ctx, endings, source_id, split,
// split_type, label as a string), the first from partial row 1988 with ctx split at its last clause.
const ROWS = [
  {
    ind: 24,
    activity_label: "Putting in contact lenses",
    ctx_a:
      "A doctor in a lab coat talks about the lenses too, while people are showing how to use them.",
    ctx_b: "another news anchor",
    ctx: "A doctor in a lab coat talks about the lenses too, while people are showing how to use them. another news anchor",
    endings: [
      "talks about contacts lenses and how robotic they can be.",
      "also talks about the same lenses and how it has become a dangerous trend among teenagers.",
      "is interviewed about the incident.",
      "talks about the lens and drink is an advertisement that the lens is called printed in a foreign language.",
    ],
    source_id: "activitynet~v_5R3h6lxne90",
    split: "val",
    split_type: "indomain",
    label: "1",
  },
  {
    ind: 25,
    activity_label: "Home and Garden",
    ctx_a: "[header] How to grow petunias [title] Pick a spot.",
    ctx_b: "then, Bob's PLANTS",
    ctx: "",
    endings: ["  Water them [step] daily.  ", "Use   three [x] spaces", "[substeps] Dig.", "ok"],
    source_id: "wikihow~1",
    split: "val",
    split_type: "zeroshot",
    label: "0",
  },
];

describe("hellaswag", () => {
  it("capitalize lower-cases every character after the first, as Python's str.capitalize", () => {
    expect(pythonCapitalize("then, Bob's PLANTS")).toBe("Then, bob's plants");
    expect(pythonCapitalize("")).toBe("");
  });

  it("query = preprocess(activity_label + ': ' + ctx_a + ' ' + capitalize(ctx_b)); choices preprocessed", async () => {
    const [a, b] = await buildDocumentRequests(task, ROWS, null);
    const contact =
      "Putting in contact lenses: A doctor in a lab coat talks about the lenses too, while people are showing how to use them. Another news anchor";
    expect(a.requests.map((r) => r.context)).toEqual(new Array(4).fill(contact));
    expect(a.requests.map((r) => r.continuation)).toEqual(ROWS[0].endings.map((e) => ` ${e}`));
    expect(a.gold).toBe(1);
    // strip; " [title]" → ". "; "[header]" removed; "  " → " " once, left to right.
    expect(b.requests[0].context).toBe(
      "Home and Garden: How to grow petunias. Pick a spot. Then, bob's plants",
    );
    expect(b.choices).toEqual(["Water them daily.", "Use  three spaces", " Dig.", "ok"]);
    expect(b.requests[2].continuation).toBe("  Dig.");
    expect(b.gold).toBe(0);
  });

  it("the real partial rows' endings preprocess as lm-eval's rule says", async () => {
    const lines = readFileSync(
      join(sharedDir, "datasets/hellaswag/partial/validation_subset500_viczon7.jsonl"),
      "utf8",
    )
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    const row7736 = lines.find((row) => row.validation_row_index === 7736);
    expect(hellaswagPreprocess(row7736.endings[1])).toBe(
      "Forgiveness in someone else can only serve to make it harder. Cheating can be very emotional, and can even be worse.",
    );
    const row9292 = lines.find((row) => row.validation_row_index === 9292);
    expect(hellaswagPreprocess(row9292.endings[2])).toBe(
      " Many new petunias have been engineered to be low-maintenance. They will fill out without being deadheaded.",
    );
    // Rows without ctx_a/ctx_b are not the HF layout: refused with the field named.
    await expect(buildDocumentRequests(task, [row7736], null)).rejects.toThrow(/ctx_a/);
  });

  it("a real WikiHow row in the HF layout: its tags and the double spaces they leave go, in order", async () => {
    // Row 7736 as Rowan/hellaswag stores a WikiHow row: the whole context in ctx_a, ctx_b empty.
    // utils.py: query = preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize()), where
    // preprocess strips, turns " [title]" into ". ", deletes "\[.*?\]", then "  " → " ".
    const lines = readFileSync(
      join(sharedDir, "datasets/hellaswag/partial/validation_subset500_viczon7.jsonl"),
      "utf8",
    )
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    const {
      validation_row_index: _,
      ctx,
      ...rest
    } = lines.find((row) => row.validation_row_index === 7736);
    const [doc] = await buildDocumentRequests(
      task,
      [{ ...rest, ctx, ctx_a: ctx, ctx_b: "" }],
      null,
    );
    expect(doc.requests[0].context).toBe(
      "Family Life: How to recover from an emotional affair. Forgive yourself. While forgiving others can be challenging, it's often even harder to forgive yourself. Remember that if you had known the path of your actions and their consequences, you probably would not have done what you did.",
    );
    expect(doc.requests[1].continuation).toBe(
      " Forgiveness in someone else can only serve to make it harder. Cheating can be very emotional, and can even be worse.",
    );
    expect(doc.gold).toBe(2);
  });

  it("the loader reads <data>/hellaswag/validation.jsonl, and says where it looked when absent", async () => {
    mkdirSync(join(work, "data/hellaswag"), { recursive: true });
    writeFileSync(
      join(work, "data/hellaswag/validation.jsonl"),
      ROWS.map((r) => JSON.stringify(r)).join("\n"),
    );
    const data = await loadGeneralTaskData(task, { dataDir: join(work, "data") });
    expect(data.docs).toEqual(ROWS);
    await expect(
      loadGeneralTaskData(task, { dataDir: join(work, "data"), numFewshot: 1 }),
    ).rejects.toThrow(/train split/);
    const saved = process.env.HF_HUB_OFFLINE;
    process.env.HF_HUB_OFFLINE = "1";
    try {
      await expect(loadGeneralTaskData(task, { dataDir: join(work, "empty") })).rejects.toThrow(
        DatasetNotFoundError,
      );
    } finally {
      if (saved === undefined) delete process.env.HF_HUB_OFFLINE;
      else process.env.HF_HUB_OFFLINE = saved;
    }
  });
});
