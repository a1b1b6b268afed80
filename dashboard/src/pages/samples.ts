// Sample viewer: one document's prompt and its completions side by side across r, each with the
// extracted answer, gold and correctness, i.e. what more thinking changed. The document list can
// be narrowed to documents whose correctness changes with r.
import { api, type RunDocument, type RunOutcomes } from "../api.ts";
import { h, query, runLink, setQuery, showMessage } from "../dom.ts";
import { flops } from "../format.ts";
import { page } from "../layout.ts";
import { changesWithR } from "../model.ts";

type TaskOutcomes = RunOutcomes["tasks"][number];

page(
  `the samples of run ${query().get("run") ?? ""}`.trim(),
  async function renderSamples(container) {
    const runId = query().get("run");
    if (!runId) {
      showMessage(
        container,
        "No run given",
        "Open the samples from a run page, or add ?run=<run id>.",
      );
      return;
    }
    const [run, outcomes] = await Promise.all([api.run(runId), api.outcomes(runId)]);
    if (!outcomes.tasks.length) {
      showMessage(container, "No documents", `Run ${runId} has no documents.`);
      return;
    }
    document.title = `Samples · ${run.checkpoint_name}`;

    const header = h(
      "p",
      { className: "crumbs" },
      h("a", { href: runLink(run.id) }, run.checkpoint_name),
      ` · run ${run.id}`,
    );
    const listBox = h("nav", { className: "doc-list", "aria-label": "documents" });
    const viewer = h("section", { className: "doc-view", "aria-live": "polite" });
    const controls = h("div", { className: "controls" });
    container.replaceChildren(
      header,
      controls,
      h("div", { className: "samples-layout" }, listBox, viewer),
    );

    const state = () => {
      const params = query();
      const task = outcomes.tasks.find((t) => t.task === params.get("task")) ?? outcomes.tasks[0];
      const changedOnly = params.get("changed") === "1";
      const docs = task.docs.filter((d) => !changedOnly || changesWithR(d));
      const asked = Number(params.get("doc"));
      const doc =
        params.get("doc") !== null && task.docs.some((d) => d.doc_index === asked)
          ? asked
          : docs[0]?.doc_index;
      const focusR = Number(params.get("r")) || null;
      return { task, changedOnly, docs, doc, focusR };
    };

    let shown = "";
    const draw = async () => {
      const { task, changedOnly, docs, doc, focusR } = state();
      controls.replaceChildren(
        outcomes.tasks.length > 1
          ? h(
              "label",
              {},
              "Task ",
              h(
                "select",
                {
                  name: "task",
                  onchange: ((event: Event) => {
                    setQuery({ task: (event.target as HTMLSelectElement).value, doc: null });
                    void draw();
                  }) as EventListener,
                },
                outcomes.tasks.map((t) =>
                  h("option", { value: t.task, selected: t === task }, t.task),
                ),
              ),
            )
          : h("span", {}, `Task ${task.task}`),
        h(
          "label",
          {},
          h("input", {
            type: "checkbox",
            name: "changed",
            checked: changedOnly,
            onchange: ((event: Event) => {
              setQuery({ changed: (event.target as HTMLInputElement).checked ? "1" : null });
              void draw();
            }) as EventListener,
          }),
          " only documents whose correctness changes with r",
        ),
        h(
          "span",
          { className: "muted", "data-doc-count": docs.length },
          `${docs.length} of ${task.docs.length} documents`,
        ),
      );
      drawList(listBox, task, docs, doc, (index) => {
        setQuery({ doc: index });
        void draw();
      });
      if (doc === undefined) {
        viewer.replaceChildren(h("p", { className: "message" }, "No document matches the filter."));
        shown = "";
        return;
      }
      const key = `${task.task}/${doc}/${focusR}`;
      if (key === shown) return;
      shown = key;
      viewer.replaceChildren(h("p", { className: "loading" }, `Loading document ${doc}…`));
      try {
        const document_ = await api.document(run.id, task.task, doc);
        if (shown === key) drawDocument(viewer, document_, task, focusR);
      } catch (error) {
        showMessage(viewer, `Could not load document ${doc}`, String(error));
      }
    };
    await draw();
  },
);

function drawList(
  box: HTMLElement,
  task: TaskOutcomes,
  docs: TaskOutcomes["docs"],
  current: number | undefined,
  pick: (doc: number) => void,
): void {
  box.replaceChildren(
    h(
      "p",
      { className: "pattern-legend muted small" },
      `squares: r = ${task.recurrences.join(", ")}`,
    ),
    h(
      "ol",
      {},
      docs.map((d) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              className: d.doc_index === current ? "doc current" : "doc",
              "aria-current": d.doc_index === current ? "true" : null,
              "data-doc": d.doc_index,
              onclick: (() => pick(d.doc_index)) as EventListener,
              title: task.recurrences.map((r, i) => `r=${r}: ${mark(d.correct[i])}`).join(", "),
            },
            h("span", { className: "doc-index" }, `#${d.doc_index}`),
            h(
              "span",
              { className: "pattern", "aria-hidden": "true" },
              d.correct.map((c) =>
                h("span", { className: c === null ? "cell none" : c ? "cell ok" : "cell bad" }, ""),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

function mark(correct: 0 | 1 | null | undefined): string {
  if (correct === null || correct === undefined) return "no result";
  return correct ? "correct" : "wrong";
}

/** The gold's final answer: GSM8K's after "####", MATH's last \boxed{…}; else the whole gold. */
function goldAnswer(gold: string): string {
  const hashes = gold.split("####");
  if (hashes.length > 1) return hashes.at(-1)!.trim();
  const boxed = gold.lastIndexOf("\\boxed{");
  if (boxed >= 0) {
    let depth = 0;
    for (let i = boxed + 6; i < gold.length; i++) {
      if (gold[i] === "{") depth++;
      else if (gold[i] === "}" && --depth === 0) return gold.slice(boxed + 7, i);
    }
  }
  return gold.trim();
}

function drawDocument(
  viewer: HTMLElement,
  doc: RunDocument,
  task: TaskOutcomes,
  focusR: number | null,
): void {
  const metric = task.primary_metric;
  const prompt = h("pre", { className: "prompt" }, doc.prompt);
  const bySample = new Map(doc.samples.map((s) => [s.recurrences, s]));
  let previous: number | null = null;
  const columns = task.recurrences.map((r) => {
    const sample = bySample.get(r);
    if (!sample) {
      return h(
        "article",
        { className: "completion none", "data-r": r },
        h("h4", {}, `r = ${r}`),
        h("p", { className: "muted" }, "No result yet."),
      );
    }
    const correct = sample.metrics[metric] === 1;
    const changed = previous !== null && previous !== Number(correct);
    previous = Number(correct);
    const extracted = Object.entries(sample.extracted);
    return h(
      "article",
      {
        className: `completion ${correct ? "ok" : "bad"}${changed ? " changed" : ""}${focusR === r ? " focus" : ""}`,
        "data-r": r,
        "data-correct": String(correct),
      },
      h(
        "h4",
        {},
        `r = ${r} `,
        h(
          "span",
          { className: correct ? "badge ok" : "badge bad" },
          correct ? "✓ correct" : "✗ wrong",
        ),
        changed ? h("span", { className: "badge changed" }, "changed") : null,
      ),
      h(
        "dl",
        { className: "facts compact" },
        extracted.map(([name, value]) =>
          h(
            "div",
            {},
            h("dt", {}, name),
            h("dd", {}, h("code", { className: "extracted" }, value)),
          ),
        ),
        h("div", {}, h("dt", {}, "gen. tokens"), h("dd", {}, String(sample.generated_tokens))),
        h("div", {}, h("dt", {}, "prompt tokens"), h("dd", {}, String(sample.prompt_tokens))),
        h("div", {}, h("dt", {}, "FLOPs"), h("dd", {}, flops(sample.flops))),
      ),
      h("pre", { className: "completion-text" }, sample.completion),
      h(
        "p",
        { className: "muted small" },
        Object.entries(sample.metrics)
          .map(([name, value]) => `${name} ${value}`)
          .join(" · "),
      ),
    );
  });
  viewer.replaceChildren(
    h("h3", {}, `Document ${doc.doc_index} `, h("span", { className: "muted small" }, doc.doc_id)),
    h(
      "div",
      { className: "gold" },
      h("strong", {}, "Gold: "),
      h("code", { "data-gold": "" }, goldAnswer(doc.gold)),
      h("details", {}, h("summary", {}, "full gold solution"), h("pre", {}, doc.gold)),
    ),
    h("details", { className: "prompt-box", open: true }, h("summary", {}, "Prompt"), prompt),
    h("div", { className: "completions" }, columns),
  );
  // The document's own question is at the end of the prompt, after the few-shot exemplars.
  prompt.scrollTop = prompt.scrollHeight;
}
