// The public API as the pages read it: same-origin fetches, types from the worker's schemas
// (type-only imports: nothing of zod reaches the browser). An optional submit token from
// localStorage lets its owner see unpublished and running runs. Every read is a GET, hedged: one
// left without an answer is sent again beside the first (hedged-fetch.ts).

import type { Leaderboard, RunDetail, RunSummary } from "../../worker/protocol.ts";
import type { RunPrecisionCost } from "../../worker/routes/precision-cost.ts";
import type {
  PublicCheckpoint,
  RunDocument,
  RunOutcomes,
} from "../../worker/routes/public-reads.ts";
import { hedgedFetch } from "./hedged-fetch.ts";

export type { PublicCheckpoint, RunDocument, RunOutcomes, RunPrecisionCost };

const TOKEN_KEY = "evals.token";

/** A non-2xx answer; `status` 404 means unknown or not published. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
    this.name = "ApiError";
  }
}

export function savedToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

async function getJson<T>(path: string): Promise<T> {
  const token = savedToken();
  const res = await hedgedFetch(path, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    cache: "no-store",
  });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: reported below with the status.
  }
  if (!res.ok) {
    const error = body as { error?: string; detail?: string } | null;
    throw new ApiError(res.status, error?.error ?? "http_error", error?.detail ?? res.statusText);
  }
  return body as T;
}

const enc = encodeURIComponent;

export const api = {
  leaderboard: () => getJson<Leaderboard>("/api/leaderboard"),
  checkpoints: () =>
    getJson<{ checkpoints: PublicCheckpoint[] }>("/api/leaderboard/checkpoints").then(
      (body) => body.checkpoints,
    ),
  /** Each task's name and generation cap (max_gen_toks). */
  tasks: () =>
    getJson<{ tasks: { name: string; max_gen_toks: number }[] }>("/api/tasks").then(
      (body) => body.tasks,
    ),
  runs: () => getJson<{ runs: RunSummary[] }>("/api/runs").then((body) => body.runs),
  run: (id: string) => getJson<RunDetail>(`/api/runs/${enc(id)}`),
  outcomes: (id: string, task?: string) =>
    getJson<RunOutcomes>(`/api/runs/${enc(id)}/outcomes${task ? `?task=${enc(task)}` : ""}`),
  /** The run beside its twins of the same weights across fp32, paired per (task, r). */
  precisionCost: (id: string) => getJson<RunPrecisionCost>(`/api/runs/${enc(id)}/precision-cost`),
  document: (id: string, task: string, doc: number) =>
    getJson<RunDocument>(`/api/runs/${enc(id)}/docs/${enc(task)}/${doc}`),
  exportUrl: (id: string, r?: number) =>
    `/api/runs/${enc(id)}/export${r === undefined ? "" : `?r=${r}&download=1`}`,
  lmEvalSamplesUrl: (id: string, task: string, r: number) =>
    `/api/runs/${enc(id)}/export/samples?task=${enc(task)}&r=${r}`,
  samplesDownloadUrl: (id: string, format: "jsonl" | "csv") =>
    `/api/runs/${enc(id)}/samples/download?format=${format}`,
  search: (id: string, task: string, q: string) =>
    getJson<{ doc_indices: number[] }>(
      `/api/runs/${enc(id)}/search?task=${enc(task)}&q=${enc(q)}`,
    ).then((body) => body.doc_indices),
};

/** The message a page shows instead of its content when a read failed. */
export function describeFailure(error: unknown, subject: string): string {
  const what = subject.charAt(0).toUpperCase() + subject.slice(1);
  if (error instanceof ApiError && error.status === 404) {
    return savedToken()
      ? `${what} was not found. Check the id in the address.`
      : `${what} was not found or is not published. Unpublished runs are visible only with a submit token (set one at the bottom of the page).`;
  }
  if (error instanceof ApiError && error.status === 401) {
    return `The saved API token was refused (${error.detail}). Clear it at the bottom of the page.`;
  }
  if (error instanceof ApiError) return `The API answered ${error.status}: ${error.detail}`;
  return `Could not reach the API: ${error instanceof Error ? error.message : String(error)}`;
}
