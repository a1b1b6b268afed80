// lm-eval's per-document metrics of loglikelihood tasks (process_results) and the perplexity
// aggregate. Pure: the worker scores the log-probabilities runners post with the same code.
import type { DocumentRequests, LoglikelihoodTaskDefinition } from "./types.ts";

export interface RequestLoglikelihood {
  logprob: number;
  isGreedy: boolean;
}

export interface DocumentScore {
  metrics: Record<string, number>;
  /** The chosen choice's index (multiple choice) as text, for reading records. */
  extracted: Record<string, string>;
  /** What the model "answered": the argmax choice, or the greedy verdict. */
  completion: string;
}

/** Python's len(): code points, not UTF-16 units. */
export function characterLength(text: string): number {
  return [...text].length;
}

/** numpy.argmax: the first of equal maxima. */
function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

export function scoreDocument(
  task: LoglikelihoodTaskDefinition,
  doc: Pick<DocumentRequests, "gold" | "choices">,
  results: readonly RequestLoglikelihood[],
): DocumentScore {
  if (task.outputType === "loglikelihood") {
    const [{ logprob, isGreedy }] = results;
    const metrics: Record<string, number> = {};
    if (task.metrics.includes("acc")) metrics.acc = isGreedy ? 1 : 0;
    // lm-eval's per-document perplexity value is the loglikelihood; the aggregate exponentiates.
    if (task.metrics.includes("perplexity")) metrics.perplexity = logprob;
    return { metrics, extracted: { greedy: String(isGreedy) }, completion: String(isGreedy) };
  }
  if (results.length !== doc.choices.length) {
    throw new RangeError(
      `${task.name}: ${results.length} loglikelihoods for ${doc.choices.length} choices`,
    );
  }
  const lls = results.map((r) => r.logprob);
  const chosen = argmax(lls);
  const metrics: Record<string, number> = { acc: chosen === doc.gold ? 1 : 0 };
  let normChosen = chosen;
  if (task.metrics.includes("acc_norm")) {
    normChosen = argmax(lls.map((ll, i) => ll / characterLength(doc.choices[i])));
    metrics.acc_norm = normChosen === doc.gold ? 1 : 0;
  }
  return {
    metrics,
    extracted: { choice: String(chosen), choice_norm: String(normChosen) },
    completion: doc.choices[chosen],
  };
}

/** lm-eval's `perplexity` aggregation: exp(−mean loglikelihood). */
export function perplexity(loglikelihoods: readonly number[]): number {
  return Math.exp(-loglikelihoods.reduce((a, b) => a + b, 0) / loglikelihoods.length);
}
