// A runner's log-probabilities for one loglikelihood document become a scored DESIGN §7 record
// here: the server decides acc / acc_norm / perplexity with lm-eval's rules and prices the sample
// as prompt-only compute from the claimed token counts, with the same function as `evals local`.
import type { z } from "zod";
import { loglikelihoodSampleFields } from "../../evals/run/loglikelihood-sample.ts";
import { badRequest } from "../http-error.ts";
import type { ResultInSchema } from "../protocol.ts";
import type { LoglikelihoodRunTask, RunContext } from "../runs/run-context.ts";
import { checkTimings, type RunDoc, recordHead, type StoredRecord } from "./sample-record.ts";

type ResultIn = z.output<typeof ResultInSchema>;
type Request = { context: string; continuation: string };

const bytes = (text: string) => new TextEncoder().encode(text).length;

/**
 * One entry per request of the document, in order, each within what its text can tokenize to
 * (no tokenizer makes more tokens than UTF-8 bytes, + BOS, + a prefix space) and the window.
 */
export function checkLoglikelihoodResult(
  result: ResultIn,
  doc: RunDoc,
  run: RunContext,
  task: LoglikelihoodRunTask,
  path: string,
): void {
  const requests: Request[] = JSON.parse(doc.prompt);
  const posted = result.loglikelihoods;
  if (!posted) {
    throw badRequest(
      `${path}.loglikelihoods: ${task.task.name} is a loglikelihood task; post {logprob, is_greedy, input_tokens, tokens} for each of the document's ${requests.length} requests`,
    );
  }
  if (posted.length !== requests.length) {
    throw badRequest(
      `${path}.loglikelihoods: ${posted.length} entries for the ${requests.length} requests of ${doc.doc_id}; post one per request, in the lease's order`,
    );
  }
  const window = run.checkpoint.manifest.architecture.max_position_embeddings;
  posted.forEach((entry, i) => {
    const most = bytes(requests[i].context + requests[i].continuation) + 2;
    if (entry.input_tokens > Math.min(window, most)) {
      throw badRequest(
        `${path}.loglikelihoods.${i}.input_tokens: ${entry.input_tokens} is impossible for this request (at most ${Math.min(window, most)})`,
      );
    }
    if (entry.tokens > most) {
      throw badRequest(
        `${path}.loglikelihoods.${i}.tokens: ${entry.tokens} is impossible for this continuation (at most ${most})`,
      );
    }
  });
  const inputTokens = posted.reduce((sum, entry) => sum + entry.input_tokens, 0);
  if (result.prompt_tokens !== inputTokens) {
    throw badRequest(
      `${path}.prompt_tokens: ${result.prompt_tokens}, but the requests' input_tokens sum to ${inputTokens}`,
    );
  }
  if (result.generated_tokens !== 0) {
    throw badRequest(`${path}.generated_tokens: a loglikelihood document generates nothing (0)`);
  }
  checkTimings(result, path);
}

export function scoreLoglikelihoodResult(
  run: RunContext,
  task: LoglikelihoodRunTask,
  doc: RunDoc,
  key: string,
  result: ResultIn,
): { record: StoredRecord; correct: number } {
  const { gold, choices }: { gold: number; choices: string[] } = JSON.parse(doc.gold);
  // The same fields `evals local` builds; prompt_tokens was checked to equal the input tokens' sum.
  const fields = loglikelihoodSampleFields(
    task.task,
    run.checkpoint.manifest,
    result.recurrences,
    { gold, choices },
    result.loglikelihoods!.map((entry) => ({
      logprob: entry.logprob,
      isGreedy: entry.is_greedy,
      inputTokens: entry.input_tokens,
      continuationTokens: entry.tokens,
      truncated: entry.truncated,
    })),
  );
  const record: StoredRecord = { ...recordHead(run, task, doc, key, result), ...fields };
  return { record, correct: (fields.metrics[task.task.primaryMetric] ?? 0) > 0 ? 1 : 0 };
}
