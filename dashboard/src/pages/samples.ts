// Sample viewer and triage: the documents of a run filtered by correctness, r, whether generation
// hit the token cap, whether the prompt was cut to the model's window, reuse, a change with r, and
// text; one document's prompt (the window the model saw when it was cut) and its completions side
// by side across r, each with the extracted answer, gold and correctness, i.e. what more thinking
// changed. The strip of r columns is one tab stop; arrow keys move between its columns.
import { api, type RunDocument, type RunOutcomes } from "../api.ts";
import { h, query, runLink, setQuery, showMessage } from "../dom.ts";
import { count, flops } from "../format.ts";
import { page } from "../layout.ts";
import { changesWithR } from "../model.ts";

type TaskOutcomes = RunOutcomes["tasks"][number];
type Doc = TaskOutcomes["docs"][number];
type Flag = "truncated" | "capped" | "reused";

const FLAGS: { flag: Flag; label: string; mark: string }[] = [
  { flag: "truncated", label: "prompt truncated", mark: "✂" },
  { flag: "capped", label: "hit the token cap", mark: "⏹" },
  { flag: "reused", label: "reused", mark: "↺" },
];

interface Filters {
  r: number | null;
  correct: "1" | "0" | null;
  changed: boolean;
  flags: Flag[];
  q: string;
}

function filtersFromAddress(recurrences: number[]): Filters {
  const params = query();
  const r = Number(params.get("r"));
  const correct = params.get("correct");
  return {
    r: recurrences.includes(r) ? r : null,
    correct: correct === "1" || correct === "0" ? correct : null,
    changed: params.get("changed") === "1",
    flags: FLAGS.map((f) => f.flag).filter((flag) => params.get(flag) === "1"),
    q: (params.get("q") ?? "").trim(),
  };
}

/** Does `doc` pass the filters? Each one holds at the chosen r, or at some r when none is chosen. */
function keep(doc: Doc, task: TaskOutcomes, filters: Filters, matches: Set<number> | null) {
  const at =
    filters.r === null ? task.recurrences.map((_, i) => i) : [task.recurrences.indexOf(filters.r)];
  const some = (values: (0 | 1 | null)[] | undefined, want: 0 | 1) =>
    at.some((i) => values?.[i] === want);
  if (filters.correct !== null && !some(doc.correct, filters.correct === "1" ? 1 : 0)) return false;
  if (filters.changed && !changesWithR(doc)) return false;
  for (const flag of filters.flags) if (!some(doc[flag], 1)) return false;
  if (matches && !matches.has(doc.doc_index)) return false;
  return true;
}

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
      "header",
      { className: "samples-header" },
      h("h1", {}, "Samples ", h("span", { className: "muted" }, `· ${run.checkpoint_name}`)),
      h(
        "p",
        { className: "crumbs" },
        h("a", { href: runLink(run.id) }, `run ${run.id}`),
        " · download all samples as ",
        h("a", { href: api.samplesDownloadUrl(run.id, "jsonl"), download: "" }, "JSONL"),
        " or ",
        h("a", { href: api.samplesDownloadUrl(run.id, "csv"), download: "" }, "CSV"),
      ),
    );
    const listBox = h("nav", { className: "doc-list", "aria-label": "documents" });
    const viewer = h("section", { className: "doc-view", "aria-live": "polite" });
    const controls = h("form", {
      className: "controls filters",
      role: "search",
      "aria-label": "Filter documents",
    });
    container.replaceChildren(
      header,
      controls,
      h("div", { className: "samples-layout" }, listBox, viewer),
    );

    const searches = new Map<string, Set<number>>();
    const matchesOf = async (task: string, q: string) => {
      if (!q) return null;
      const key = `${task}\u0000${q}`;
      if (!searches.has(key)) searches.set(key, new Set(await api.search(run.id, task, q)));
      return searches.get(key) ?? null;
    };

    let shown = "";
    const draw = async () => {
      const params = query();
      const task = outcomes.tasks.find((t) => t.task === params.get("task")) ?? outcomes.tasks[0];
      const filters = filtersFromAddress(task.recurrences);
      const matches = await matchesOf(task.task, filters.q);
      const docs = task.docs.filter((d) => keep(d, task, filters, matches));
      const asked = Number(params.get("doc"));
      const doc =
        params.get("doc") !== null && task.docs.some((d) => d.doc_index === asked)
          ? asked
          : docs[0]?.doc_index;
      const set = (values: Record<string, string | number | null>) => {
        setQuery(values);
        void draw();
      };
      drawControls(controls, outcomes, task, filters, docs.length, set);
      drawList(listBox, task, docs, doc, filters.r, (index) => set({ doc: index }));
      if (doc === undefined) {
        viewer.replaceChildren(
          h("p", { className: "message", role: "status" }, "No document matches the filters."),
        );
        shown = "";
        return;
      }
      const key = `${task.task}/${doc}/${filters.r}`;
      if (key === shown) return;
      shown = key;
      viewer.replaceChildren(h("p", { className: "loading" }, `Loading document ${doc}…`));
      try {
        const document_ = await api.document(run.id, task.task, doc);
        if (shown === key) drawDocument(viewer, document_, task, filters.r);
      } catch (error) {
        showMessage(viewer, `Could not load document ${doc}`, String(error));
      }
    };
    await draw();
  },
);

function drawControls(
  form: HTMLFormElement,
  outcomes: RunOutcomes,
  task: TaskOutcomes,
  filters: Filters,
  shown: number,
  set: (values: Record<string, string | number | null>) => void,
): void {
  const select = (
    name: string,
    label: string,
    options: [string, string][],
    value: string,
    onPick: (value: string) => void,
  ) =>
    h(
      "label",
      {},
      `${label} `,
      h(
        "select",
        {
          name,
          onchange: ((event: Event) =>
            onPick((event.target as HTMLSelectElement).value)) as EventListener,
        },
        options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)),
      ),
    );
  const checkbox = (name: string, label: string, checked: boolean) =>
    h(
      "label",
      {},
      h("input", {
        type: "checkbox",
        name,
        checked,
        onchange: ((event: Event) =>
          set({
            [name]: (event.target as HTMLInputElement).checked ? "1" : null,
          })) as EventListener,
      }),
      ` ${label}`,
    );
  const search = h("input", {
    type: "search",
    name: "q",
    value: filters.q,
    placeholder: "text in prompt, gold or completion",
    "aria-label": "Search documents",
  });
  form.onsubmit = (event) => {
    event.preventDefault();
    set({ q: search.value.trim() || null, doc: null });
  };
  form.replaceChildren(
    outcomes.tasks.length > 1
      ? select(
          "task",
          "Task",
          outcomes.tasks.map((t) => [t.task, t.task]),
          task.task,
          (value) => set({ task: value, doc: null }),
        )
      : h("span", {}, `Task ${task.task}`),
    select(
      "r",
      "r",
      [["", "any r"], ...task.recurrences.map((r): [string, string] => [String(r), `r = ${r}`])],
      filters.r === null ? "" : String(filters.r),
      (value) => set({ r: value || null }),
    ),
    select(
      "correct",
      "Answer",
      [
        ["", "correct or wrong"],
        ["1", "✓ correct"],
        ["0", "✗ wrong"],
      ],
      filters.correct ?? "",
      (value) => set({ correct: value || null }),
    ),
    ...FLAGS.map((f) => checkbox(f.flag, `${f.mark} ${f.label}`, filters.flags.includes(f.flag))),
    checkbox("changed", "correctness changes with r", filters.changed),
    h("span", { className: "search" }, search, h("button", { type: "submit" }, "Search")),
    h(
      "span",
      { className: "muted", "data-doc-count": shown, role: "status" },
      `${shown} of ${task.docs.length} documents`,
    ),
  );
}

function mark(correct: 0 | 1 | null | undefined): string {
  if (correct === null || correct === undefined) return "no result";
  return correct ? "correct" : "wrong";
}

function drawList(
  box: HTMLElement,
  task: TaskOutcomes,
  docs: TaskOutcomes["docs"],
  current: number | undefined,
  focusR: number | null,
  pick: (doc: number) => void,
): void {
  const scope =
    focusR === null ? task.recurrences.map((_, i) => i) : [task.recurrences.indexOf(focusR)];
  box.replaceChildren(
    h(
      "p",
      { className: "pattern-legend muted small" },
      `✓ correct, ✗ wrong at r = ${task.recurrences.join(", ")}; ${FLAGS.map((f) => `${f.mark} ${f.label}`).join(", ")}`,
    ),
    h(
      "ol",
      {},
      docs.map((d) => {
        const marks = FLAGS.filter((f) => scope.some((i) => d[f.flag]?.[i] === 1));
        return h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              className: d.doc_index === current ? "doc current" : "doc",
              "aria-current": d.doc_index === current ? "true" : null,
              "data-doc": d.doc_index,
              "data-flags": marks.map((f) => f.flag).join(" "),
              onclick: (() => pick(d.doc_index)) as EventListener,
              "aria-label": `Document ${d.doc_index}: ${task.recurrences.map((r, i) => `r=${r} ${mark(d.correct[i])}`).join(", ")}${marks.length ? `; ${marks.map((f) => f.label).join(", ")}` : ""}`,
            },
            h("span", { className: "doc-index" }, `#${d.doc_index}`),
            marks.length
              ? h(
                  "span",
                  { className: "doc-flags", "aria-hidden": "true" },
                  marks.map((f) => f.mark).join(""),
                )
              : null,
            h(
              "span",
              { className: "pattern", "aria-hidden": "true" },
              d.correct.map((c) =>
                h(
                  "span",
                  { className: c === null ? "cell none" : c ? "cell ok" : "cell bad" },
                  c === null ? "·" : c ? "✓" : "✗",
                ),
              ),
            ),
          ),
        );
      }),
    ),
  );
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

/** The extracted answer the primary metric scored: its filter's (GSM8K), else the metric's own. */
function primaryAnswer(extracted: Record<string, string>, metric: string): [string, string] | null {
  const [base, filter] = metric.split(",");
  for (const key of [filter, metric, base]) {
    if (key !== undefined && key in extracted) return [key, extracted[key]];
  }
  return null;
}

function promptSection(doc: RunDocument): HTMLElement[] {
  const truncated = doc.samples.find((s) => s.prompt_truncated);
  // Scrollable boxes are tab stops, so a keyboard can scroll them.
  const full = h(
    "pre",
    { className: "prompt", tabindex: 0, "aria-label": "Full prompt" },
    doc.prompt,
  );
  // The document's own question is at the end of the prompt, after the few-shot exemplars.
  queueMicrotask(() => {
    full.scrollTop = full.scrollHeight;
  });
  if (!truncated) {
    return [
      h("details", { className: "prompt-box", open: true }, h("summary", {}, "Prompt"), full),
    ];
  }
  const seen = doc.prompt_seen;
  const note = seen
    ? `The prompt did not fit the model's window: the model saw only its last ${count(seen.kept_tokens)} tokens; the first ${count(seen.dropped_tokens)} were cut.`
    : `The prompt did not fit the model's window: the model saw only its last ${count(truncated.prompt_tokens)} tokens.`;
  const sections: HTMLElement[] = [
    h(
      "p",
      { className: "warning", role: "note", "data-prompt-truncated": "" },
      h("span", { "aria-hidden": "true" }, "✂ "),
      note,
    ),
  ];
  if (seen) {
    const window = h(
      "pre",
      {
        className: "prompt seen",
        "data-prompt-seen": "",
        tabindex: 0,
        "aria-label": "Prompt the model saw",
      },
      seen.text,
    );
    queueMicrotask(() => {
      window.scrollTop = window.scrollHeight;
    });
    sections.push(
      h(
        "details",
        { className: "prompt-box", open: true },
        h("summary", {}, "Prompt the model saw"),
        window,
      ),
    );
  }
  sections.push(
    h(
      "details",
      { className: "prompt-box", open: !seen },
      h("summary", {}, "Full prompt as built (before truncation)"),
      full,
    ),
  );
  return sections;
}

function drawDocument(
  viewer: HTMLElement,
  doc: RunDocument,
  task: TaskOutcomes,
  focusR: number | null,
): void {
  const metric = task.primary_metric;
  const bySample = new Map(doc.samples.map((s) => [s.recurrences, s]));
  const cap = task.max_new_tokens ?? null;
  let previous: number | null = null;
  const columns = task.recurrences.map((r) => {
    const sample = bySample.get(r);
    if (!sample) {
      return h(
        "article",
        { className: "completion none", "data-r": r, tabindex: -1, "aria-label": `r = ${r}` },
        h("h3", {}, `r = ${r}`),
        h("p", { className: "muted" }, "No result yet."),
      );
    }
    const correct = sample.metrics[metric] === 1;
    const changed = previous !== null && previous !== Number(correct);
    previous = Number(correct);
    const answer = primaryAnswer(sample.extracted, metric);
    const others = Object.entries(sample.extracted).filter(([name]) => name !== answer?.[0]);
    const capped = cap !== null && sample.generated_tokens >= cap;
    const badges = [
      sample.prompt_truncated
        ? h("span", { className: "badge warn", "data-badge": "truncated" }, "✂ prompt truncated")
        : null,
      capped
        ? h("span", { className: "badge warn", "data-badge": "capped" }, "⏹ hit token cap")
        : null,
      sample.reused ? h("span", { className: "badge", "data-badge": "reused" }, "↺ reused") : null,
      changed ? h("span", { className: "badge changed" }, "changed") : null,
    ].filter((b) => b !== null);
    return h(
      "article",
      {
        className: `completion ${correct ? "ok" : "bad"}${changed ? " changed" : ""}${focusR === r ? " focus" : ""}`,
        "data-r": r,
        "data-correct": String(correct),
        tabindex: -1,
        "aria-label": `r = ${r}, ${correct ? "correct" : "wrong"}`,
      },
      h(
        "h3",
        {},
        `r = ${r} `,
        h(
          "span",
          { className: correct ? "badge ok" : "badge bad" },
          correct ? "✓ correct" : "✗ wrong",
        ),
      ),
      badges.length ? h("p", { className: "badges" }, badges) : null,
      h(
        "p",
        { className: "answer" },
        h("strong", {}, "Answer: "),
        h(
          "code",
          { className: "extracted", "data-answer": answer?.[0] ?? "" },
          answer?.[1] || "(none extracted)",
        ),
        answer ? h("span", { className: "muted small" }, ` (${answer[0]})`) : null,
      ),
      h(
        "dl",
        { className: "facts compact" },
        others.map(([name, value]) =>
          h(
            "div",
            { "data-extracted": name },
            h("dt", {}, name),
            h("dd", {}, h("code", { className: "extracted" }, value || "(none)")),
          ),
        ),
        h(
          "div",
          {},
          h("dt", {}, "gen. tokens"),
          h(
            "dd",
            {},
            cap !== null ? `${sample.generated_tokens} of ${cap}` : String(sample.generated_tokens),
          ),
        ),
        h("div", {}, h("dt", {}, "prompt tokens"), h("dd", {}, String(sample.prompt_tokens))),
        h("div", {}, h("dt", {}, "FLOPs"), h("dd", {}, flops(sample.flops))),
      ),
      h(
        "pre",
        { className: "completion-text", tabindex: 0, "aria-label": `Completion at r = ${r}` },
        sample.completion,
      ),
      h(
        "p",
        { className: "muted small" },
        Object.entries(sample.metrics)
          .map(([name, value]) => `${name} ${value}`)
          .join(" · "),
      ),
    );
  });
  const strip = h(
    "div",
    {
      className: "completions",
      role: "group",
      tabindex: 0,
      "aria-label": "Completions by r (arrow keys move between r)",
    },
    columns,
  );
  strip.addEventListener("keydown", (event) => {
    const keys: Record<string, number> = {
      ArrowRight: 1,
      ArrowDown: 1,
      ArrowLeft: -1,
      ArrowUp: -1,
    };
    const step =
      keys[event.key] ?? (event.key === "Home" ? -Infinity : event.key === "End" ? Infinity : 0);
    if (!step) return;
    event.preventDefault();
    const at = columns.indexOf(document.activeElement as HTMLElement);
    const next =
      Math.abs(step) === Infinity
        ? step < 0
          ? 0
          : columns.length - 1
        : Math.max(
            0,
            Math.min(columns.length - 1, (at < 0 ? (step > 0 ? -1 : columns.length) : at) + step),
          );
    columns[next].focus();
    columns[next].scrollIntoView({ block: "nearest", inline: "nearest" });
  });
  viewer.replaceChildren(
    h("h2", {}, `Document ${doc.doc_index} `, h("span", { className: "muted small" }, doc.doc_id)),
    h(
      "div",
      { className: "gold" },
      h("strong", {}, "Gold: "),
      h("code", { "data-gold": "" }, goldAnswer(doc.gold)),
      h("details", {}, h("summary", {}, "full gold solution"), h("pre", {}, doc.gold)),
    ),
    ...promptSection(doc),
    strip,
  );
}
