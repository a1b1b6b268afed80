// Named failures of the inference engine; each says what to change.
import { EvalsError } from "../../evals/errors.ts";

/** A request the engine refuses before running anything. */
export class GenerationRequestError extends EvalsError {}

/** The prompt plus the tokens to generate do not fit the model's positions. */
export class ContextWindowExceededError extends EvalsError {}

/** A graph whose inputs or outputs are not what the manifest implies. */
export class GraphContractError extends EvalsError {}

/** NaN or Inf appeared in a tensor; names the graph and the iteration. */
export class NonFiniteValueError extends EvalsError {
  /** The graph file whose output held the value, e.g. `block.onnx`, where the engine knows it. */
  graph?: string;
}

/** A loglikelihood request the engine refuses (empty continuation, bad recurrence count). */
export class LoglikelihoodRequestError extends EvalsError {}
