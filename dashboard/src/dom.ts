// A few DOM helpers: build elements, show a message in place of a page, keep state in the URL.

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** `h("a", { href: "/" }, "home")`: attributes (`on…` become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "className") {
      el.className = String(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function main(): HTMLElement {
  const el = document.getElementById("app");
  if (!el) throw new Error("the page has no #app element");
  return el;
}

/** Replaces the page content with a message (role=alert so it is announced and testable). */
export function showMessage(container: HTMLElement, title: string, detail: string): void {
  container.replaceChildren(
    h("div", { className: "message", role: "alert" }, h("h2", {}, title), h("p", {}, detail)),
  );
}

export function loading(container: HTMLElement, what: string): void {
  container.replaceChildren(h("p", { className: "loading" }, `Loading ${what}…`));
}

/** The page's query parameters. */
export function query(): URLSearchParams {
  return new URLSearchParams(location.search);
}

/** Writes `values` into the address (empty values removed) without a reload or history entry. */
export function setQuery(values: Record<string, string | number | null | undefined>): void {
  const params = query();
  for (const [key, value] of Object.entries(values)) {
    if (value === null || value === undefined || value === "") params.delete(key);
    else params.set(key, String(value));
  }
  const search = params.toString();
  history.replaceState(null, "", `${location.pathname}${search ? `?${search}` : ""}`);
}

export function runLink(id: string): string {
  return `/run?id=${encodeURIComponent(id)}`;
}

export function samplesLink(run: string, task?: string, doc?: number): string {
  const params = new URLSearchParams({ run });
  if (task) params.set("task", task);
  if (doc !== undefined) params.set("doc", String(doc));
  return `/samples?${params}`;
}

export function compareLink(a: string, b: string): string {
  return `/compare?${new URLSearchParams({ a, b })}`;
}

/**
 * `parent.append(...children)`. Spelled out because the worker's types (@cloudflare/workers-types,
 * in the same program) redeclare `Element.append` for HTMLRewriter.
 */
export function add(parent: Node, ...children: (Node | string)[]): void {
  for (const child of children) {
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

/** A table header row; labels listed in `numeric` are right-aligned like their cells. */
export function headerRow(labels: string[], numeric: string[] = []): HTMLTableRowElement {
  return h(
    "tr",
    {},
    labels.map((label) =>
      h("th", { scope: "col", className: numeric.includes(label) ? "num" : "" }, label),
    ),
  );
}
