// The fields of a loglikelihood sample that follow from its document's scored requests. `evals
// local` (loglikelihood-run.ts) and the API (worker/leases/loglikelihood-record.ts) both build them
// here, so a record means the same wherever its numbers were computed.
import { flopsForSample } from "../../model/flops.ts";
import type { Manifest } from "../../model/manifest.ts";
import { scoreDocument } from "../tasks/loglikelihood/score.ts";
import type {
  DocumentRequests,
  LoglikelihoodTaskDefinition,
} from "../tasks/loglikelihood/types.ts";
import type { SampleRecord, ScoredField } from "./records.ts";

/** One request of a document as scored (the engine's LoglikelihoodResult has these fields). */
export interface ScoredRequest {
  logprob: number;
  isGreedy: boolean;
  /** Tokens fed to the model for this request, after left truncation. */
  inputTokens: number;
  /** Tokens of the continuation scored. */
  continuationTokens: number;
  truncated: boolean;
}

export type LoglikelihoodSampleFields = Pick<SampleRecord, ScoredField>;

/** lm-eval's metrics for the document, its token counts, and its compute at `recurrences`. */
export function loglikelihoodSampleFields(
  task: LoglikelihoodTaskDefinition,
  manifest: Manifest,
  recurrences: number,
  doc: Pick<DocumentRequests, "gold" | "choices">,
  requests: readonly ScoredRequest[],
): LoglikelihoodSampleFields {
  const score = scoreDocument(task, doc, requests);
  return {
    completion: score.completion,
    prompt_tokens: requests.reduce((sum, request) => sum + request.inputTokens, 0),
    generated_tokens: 0,
    prompt_truncated: requests.some((request) => request.truncated),
    // Prompt-only compute: every request's input tokens once, each at its own context length, at
    // r by the FLOPs formula, whether or not a sweep or a shared context saved work.
    flops: requests.reduce(
      (sum, request) => sum + flopsForSample(manifest, recurrences, request.inputTokens, 0),
      0,
    ),
    extracted: score.extracted,
    metrics: score.metrics,
    loglikelihoods: requests.map((request) => ({
      logprob: request.logprob,
      is_greedy: request.isGreedy,
      tokens: request.continuationTokens,
    })),
  };
}
