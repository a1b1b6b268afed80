// Two backends' greedy generations of the same requests: the same tokens, and the top-5 logits of
// the prefill and of every decode step (`stepTop5`) within atol + rtol·|x| of the reference's.
import { expect } from "vitest";
import type { GenerationResult } from "../../runner/engine/generate.ts";

export function expectSameGenerations(
  got: readonly GenerationResult[],
  want: readonly GenerationResult[],
  tolerance: { atol: number; rtol: number },
): void {
  const expectClose = (a: [number, number][], b: [number, number][], label: string) => {
    expect(a[0][0], label).toBe(b[0][0]);
    for (const [k, [, logit]] of a.entries()) {
      expect(Math.abs(logit - b[k][1]), label).toBeLessThanOrEqual(
        tolerance.atol + tolerance.rtol * Math.abs(b[k][1]),
      );
    }
  };
  expect(got).toHaveLength(want.length);
  for (const [i, result] of got.entries()) {
    expect(result.ids).toEqual(want[i].ids);
    expectClose(result.top5, want[i].top5, `row ${i} prefill`);
    expect(result.stepTop5!.length).toBe(want[i].stepTop5!.length);
    for (const [s, top] of result.stepTop5!.entries()) {
      expectClose(top, want[i].stepTop5![s], `row ${i} decode step ${s}`);
    }
  }
}
