// lm-eval's rule for prompts longer than the model's window: keep the last
// (max_length − max_gen_toks) tokens, so that the generation still fits.
export interface PromptWindow {
  ids: number[];
  truncated: boolean;
}

export function fitPrompt(ids: number[], maxPositions: number, maxNewTokens: number): PromptWindow {
  const room = maxPositions - maxNewTokens;
  if (ids.length <= room) return { ids, truncated: false };
  return { ids: ids.slice(-room), truncated: true };
}
