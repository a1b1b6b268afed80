// Initialisation scales shared by surgery (node) and the engine (also in browsers): pure TS.

/** Standard deviation of a random adapter, and the default state std: sqrt(2 / (5h)). */
export function adapterStd(hiddenSize: number): number {
  return Math.sqrt(2 / (5 * hiddenSize));
}
