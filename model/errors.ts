// Named failures of model loading, surgery and export. Each message names the file or tensor and the fix.
import { EvalsError } from "../evals/errors.ts";

/** A weights file that cannot be read: missing, truncated, or with a header that lies. */
export class WeightsFileError extends EvalsError {}

/** A tensor that is absent, or present with the wrong shape or dtype. */
export class TensorError extends EvalsError {}

/** A config.json whose architecture evals does not implement. */
export class UnsupportedArchitectureError extends EvalsError {}

/** A config.json that is malformed or inconsistent. */
export class ModelConfigError extends EvalsError {}

/** A --split / --layers request that does not fit the source model. */
export class SurgeryError extends EvalsError {}

/** A checkpoint directory that does not match its manifest. */
export class CheckpointError extends EvalsError {}

/** The output directory cannot be created or written. */
export class OutputError extends EvalsError {}
