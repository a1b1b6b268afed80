// lm-eval's generate_until cut (HFLM.generate_until, and every other backend): the completion is
// split at each stop sequence in turn and its first piece kept, so the text ends just before the
// earliest stop sequence of any kind. Filters and metrics only ever see that text.

/**
 * `text` up to the earliest occurrence of any non-empty stop sequence.
 *
 * @example cutAtUntil(" 12.\n\nQuestion: next", ["Question:"]) // " 12.\n\n"
 */
export function cutAtUntil(text: string, until: readonly string[]): string {
  let end = text.length;
  for (const stop of until) {
    if (stop === "") continue;
    const at = text.indexOf(stop);
    if (at >= 0 && at < end) end = at;
  }
  return text.slice(0, end);
}
