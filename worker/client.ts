// A typed fetch client for the coordinator API, for the CLI and the runner: every URL is written
// here once. Answers are checked with the protocol's zod schemas; API errors throw ApiError.
import type { z } from "zod";
import {
  BlobInfoSchema,
  type Capabilities,
  type CheckpointRegister,
  CheckpointSchema,
  DatasetListSchema,
  type DatasetRegister,
  DatasetSchema,
  ErrorSchema,
  FailureAcceptedSchema,
  HeartbeatSchema,
  LeaderboardSchema,
  type Lease,
  LeaseSchema,
  MAX_SINGLE_PUT_BYTES,
  type ResultIn,
  ResultsAcceptedSchema,
  type RunCreate,
  RunDetailSchema,
  RunListSchema,
  type Sample,
  SamplePageSchema,
  TaskListSchema,
  type TokenCreate,
  TokenCreatedSchema,
  UploadSchema,
} from "./protocol.ts";

/** A 4xx/5xx answer: `status`, the API's stable `error` code and its `detail`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly detail: string,
  ) {
    super(`${status} ${error}: ${detail}`);
    this.name = "ApiError";
  }
}

export interface ClientOptions {
  /** Where the API lives, e.g. `http://127.0.0.1:8787` (no trailing `/api`). */
  baseUrl: string;
  token?: string;
  fetch?: typeof fetch;
}

export interface SampleFilter {
  task?: string;
  r?: number;
  correct?: boolean;
  cursor?: string;
  limit?: number;
}

/**
 * Example: `const api = new EvalsClient({ baseUrl, token }); const run = await api.getRun(id);`
 */
export class EvalsClient {
  readonly baseUrl: string;
  private readonly token?: string;
  private readonly fetcher: typeof fetch;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.token = options.token;
    this.fetcher = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Absolute URL of an API path or of a `url` the API returned (e.g. a checkpoint file). */
  url(path: string): string {
    return path.startsWith("http") ? path : `${this.baseUrl}${path}`;
  }

  // ── tokens ──
  createToken(body: TokenCreate) {
    return this.json("POST", "/api/tokens", TokenCreatedSchema, body);
  }

  // ── blobs ──
  async hasBlob(sha256: string): Promise<boolean> {
    const res = await this.send("HEAD", `/api/blobs/${sha256}`);
    if (res.status === 404) return false;
    await this.check(res);
    return true;
  }

  /** Uploads one file of at most MAX_SINGLE_PUT_BYTES; larger files: `uploadLargeBlob`. */
  async putBlob(sha256: string, bytes: Uint8Array<ArrayBuffer>) {
    const res = await this.send("PUT", `/api/blobs/${sha256}`, bytes, {
      "content-type": "application/octet-stream",
    });
    return BlobInfoSchema.parse(await (await this.check(res)).json());
  }

  /**
   * Multipart upload that resumes: parts the server already holds are skipped.
   * `readPart(offset, length)` returns those bytes of the file.
   */
  async uploadLargeBlob(
    sha256: string,
    bytes: number,
    readPart: (offset: number, length: number) => Promise<Uint8Array<ArrayBuffer>>,
    partSize?: number,
  ) {
    let upload = await this.json("POST", "/api/uploads", UploadSchema, {
      sha256,
      bytes,
      part_size: partSize,
    });
    if (upload.state === "complete" || upload.id === null) return { sha256, bytes };
    const held = new Set(upload.parts.map((p) => p.part_number));
    for (let part = 1; part <= upload.part_count; part++) {
      if (held.has(part)) continue;
      const offset = (part - 1) * upload.part_size;
      const data = await readPart(offset, Math.min(upload.part_size, bytes - offset));
      await this.check(
        await this.send("PUT", `/api/uploads/${upload.id}/parts/${part}`, data, {
          "content-type": "application/octet-stream",
        }),
      );
    }
    upload = await this.json("GET", `/api/uploads/${upload.id}`, UploadSchema);
    return this.json("POST", `/api/uploads/${upload.id}/complete`, BlobInfoSchema);
  }

  /** Uploads `bytes` however large, skipping it when the server already has it. */
  async uploadBlob(sha256: string, bytes: Uint8Array<ArrayBuffer>) {
    if (await this.hasBlob(sha256)) return { sha256, bytes: bytes.length };
    if (bytes.length <= MAX_SINGLE_PUT_BYTES) return this.putBlob(sha256, bytes);
    return this.uploadLargeBlob(sha256, bytes.length, async (offset, length) =>
      bytes.slice(offset, offset + length),
    );
  }

  async getBlob(sha256OrUrl: string): Promise<Response> {
    const path = sha256OrUrl.includes("/") ? sha256OrUrl : `/api/blobs/${sha256OrUrl}`;
    return this.check(await this.send("GET", path));
  }

  // ── checkpoints, datasets, tasks ──
  registerCheckpoint(body: CheckpointRegister) {
    return this.json("POST", "/api/checkpoints", CheckpointSchema, body);
  }
  getCheckpoint(id: string) {
    return this.json("GET", `/api/checkpoints/${encodeURIComponent(id)}`, CheckpointSchema);
  }
  registerDataset(body: DatasetRegister) {
    return this.json("POST", "/api/datasets", DatasetSchema, body);
  }
  /** Registered datasets, newest first (the order the API picks them for runs); submit role. */
  listDatasets() {
    return this.json("GET", "/api/datasets", DatasetListSchema);
  }
  listTasks() {
    return this.json("GET", "/api/tasks", TaskListSchema);
  }

  // ── runs ──
  createRun(body: RunCreate) {
    return this.json("POST", "/api/runs", RunDetailSchema, body);
  }
  listRuns() {
    return this.json("GET", "/api/runs", RunListSchema);
  }
  getRun(id: string) {
    return this.json("GET", `/api/runs/${encodeURIComponent(id)}`, RunDetailSchema);
  }
  cancelRun(id: string) {
    return this.json("POST", `/api/runs/${encodeURIComponent(id)}/cancel`, RunDetailSchema);
  }
  /** Puts an incomplete run's failed shards back in the queue. */
  retryRun(id: string) {
    return this.json("POST", `/api/runs/${encodeURIComponent(id)}/retry`, RunDetailSchema);
  }
  publishRun(id: string) {
    return this.json("POST", `/api/runs/${encodeURIComponent(id)}/publish`, RunDetailSchema);
  }
  samples(id: string, filter: SampleFilter = {}) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) {
      if (value !== undefined) query.set(key, String(value));
    }
    const path = `/api/runs/${encodeURIComponent(id)}/samples?${query}`;
    return this.json("GET", path, SamplePageSchema);
  }
  /** Every sample of a run matching `filter`, following the pages. */
  async allSamples(id: string, filter: Omit<SampleFilter, "cursor" | "limit"> = {}) {
    const samples: Sample[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.samples(id, { ...filter, limit: 500, cursor });
      samples.push(...page.samples);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return samples;
  }
  /** lm-evaluation-harness results JSON; `r` picks one recurrence. */
  async exportRun(id: string, r?: number): Promise<Record<string, unknown>> {
    const path = `/api/runs/${encodeURIComponent(id)}/export${r === undefined ? "" : `?r=${r}`}`;
    return (await this.check(await this.send("GET", path))).json();
  }
  leaderboard(task?: string) {
    const path = task ? `/api/leaderboard?task=${encodeURIComponent(task)}` : "/api/leaderboard";
    return this.json("GET", path, LeaderboardSchema);
  }

  // ── runner ──
  /** The next shard, or null when there is no work now. */
  async lease(capabilities: Capabilities, runnerVersion: string): Promise<Lease | null> {
    const res = await this.send("POST", "/api/leases", {
      capabilities,
      runner_version: runnerVersion,
    });
    if (res.status === 204) return null;
    return LeaseSchema.parse(await (await this.check(res)).json());
  }
  heartbeat(leaseId: string) {
    return this.json("POST", `/api/leases/${leaseId}/heartbeat`, HeartbeatSchema);
  }
  postResults(leaseId: string, results: ResultIn[]) {
    return this.json("POST", `/api/leases/${leaseId}/results`, ResultsAcceptedSchema, { results });
  }
  reportFailure(leaseId: string, reason: string) {
    return this.json("POST", `/api/leases/${leaseId}/fail`, FailureAcceptedSchema, { reason });
  }
  /** Gives the shard back without counting a failure (the runner is stopping). */
  releaseLease(leaseId: string) {
    return this.json("POST", `/api/leases/${leaseId}/release`, FailureAcceptedSchema);
  }

  // ── plumbing ──
  private async json<T extends z.ZodType>(
    method: string,
    path: string,
    schema: T,
    body?: unknown,
  ): Promise<z.output<T>> {
    const res = await this.check(await this.send(method, path, body));
    return schema.parse(await res.json());
  }

  private send(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    const all: Record<string, string> = { ...headers };
    if (this.token) all.authorization = `Bearer ${this.token}`;
    let payload: BodyInit | undefined;
    if (body instanceof Uint8Array) payload = body as Uint8Array<ArrayBuffer>;
    else if (body !== undefined) {
      all["content-type"] = "application/json";
      payload = JSON.stringify(body);
    }
    return this.fetcher(this.url(path), { method, headers: all, body: payload });
  }

  private async check(res: Response): Promise<Response> {
    if (res.ok) return res;
    const text = await res.text();
    const parsed = ErrorSchema.safeParse(safeJson(text));
    if (parsed.success) throw new ApiError(res.status, parsed.data.error, parsed.data.detail);
    throw new ApiError(res.status, "http_error", text.slice(0, 200) || res.statusText);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
