// HellaSwag's process_docs (lm_eval/tasks/hellaswag/utils.py), in words from the task facts:
// query = preprocess(activity_label + ": " + ctx_a + " " + capitalize(ctx_b)), choices =
// preprocess(each ending), gold = int(label). The raw `ctx` column is not used.
import { TaskDataError } from "../render.ts";
import type { TaskDoc } from "../types.ts";

/** Python's str.capitalize(): first character upper-cased, every other one lower-cased. */
export function pythonCapitalize(text: string): string {
  const [first, ...rest] = [...text];
  return first === undefined ? "" : first.toUpperCase() + rest.join("").toLowerCase();
}

/**
 * strip; " [title]" → ". "; delete every non-greedy `[...]` (no newline inside, as Python's `.`);
 * then one left-to-right pass replacing "  " with " ".
 */
export function hellaswagPreprocess(text: string): string {
  return text
    .trim()
    .replaceAll(" [title]", ". ")
    .replace(/\[[^\n]*?\]/g, "")
    .replaceAll("  ", " ");
}

export function processHellaswagDoc(doc: TaskDoc): TaskDoc {
  const field = (name: string) => {
    const value = doc[name];
    if (typeof value !== "string")
      throw new TaskDataError(`hellaswag row has no text field "${name}" (Rowan/hellaswag layout)`);
    return value;
  };
  const endings = doc.endings;
  if (!Array.isArray(endings) || endings.some((e) => typeof e !== "string"))
    throw new TaskDataError(`hellaswag row has no "endings" list of strings`);
  const label = String(doc.label ?? "");
  if (!/^\d+$/.test(label))
    throw new TaskDataError(`hellaswag row has label "${label}", not a digit`);
  return {
    ...doc,
    query: hellaswagPreprocess(
      `${field("activity_label")}: ${field("ctx_a")} ${pythonCapitalize(field("ctx_b"))}`,
    ),
    choices: (endings as string[]).map(hellaswagPreprocess),
    gold: Number(label),
  };
}
