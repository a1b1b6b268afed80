// Python `re` semantics that lm-evaluation-harness's filters and metrics rely on, in JavaScript:
// `findall` (group-dependent return shape) and `sub` with Python's `$` (which also matches before
// a final newline). Pure TypeScript: the worker scores with it too.

/** Compiles a Python pattern; `(?s)` becomes the dotAll flag, `$` gets Python's meaning. */
export function pythonRegex(pattern: string, flags = ""): RegExp {
  let source = pattern;
  let allFlags = flags;
  if (source.startsWith("(?s)")) {
    source = source.slice(4);
    allFlags += "s";
  }
  // An unescaped `$` at the end: Python also matches just before a trailing "\n".
  source = source.replace(/(^|[^\\])\$$/, "$1(?=\\n?$)");
  return new RegExp(source, `${allFlags}g`);
}

/** re.findall: full matches with no groups, group 1 with one group, a tuple of groups otherwise. */
export function findall(regex: RegExp, text: string): (string | string[])[] {
  const out: (string | string[])[] = [];
  for (const match of text.matchAll(regex)) {
    const groups = match.slice(1).map((g) => g ?? "");
    if (groups.length === 0) out.push(match[0]);
    else if (groups.length === 1) out.push(groups[0]);
    else out.push(groups);
  }
  return out;
}

/** re.sub(pattern, "", text) */
export function removeAll(regex: RegExp, text: string): string {
  return text.replace(regex, "");
}
