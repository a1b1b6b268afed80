// What a scorer returns for one completion: the filters' extracted answers and lm-eval metrics.
export interface ScoreResult {
  /** filter name → extracted answer (e.g. "strict-match" → "18"). */
  extracted: Record<string, string>;
  /** lm-eval metric name (e.g. "exact_match,flexible-extract") → 0 or 1. */
  metrics: Record<string, number>;
}
