-- The coordinator's rows (worker/). A blob exists for the API only once its row is here, which is
-- written after the server hashed the stored bytes itself; `r2_key` is where the bytes are.

CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('admin', 'submit', 'runner')),
  trusted INTEGER NOT NULL DEFAULT 0,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);

CREATE TABLE blobs (
  sha256 TEXT PRIMARY KEY,
  bytes INTEGER NOT NULL,
  r2_key TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE uploads (
  id TEXT PRIMARY KEY,
  sha256 TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  part_size INTEGER NOT NULL,
  r2_upload_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'complete', 'aborted')),
  created_at TEXT NOT NULL
);

CREATE TABLE upload_parts (
  upload_id TEXT NOT NULL REFERENCES uploads (id),
  part_number INTEGER NOT NULL,
  etag TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  PRIMARY KEY (upload_id, part_number)
);

CREATE TABLE checkpoints (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  manifest TEXT NOT NULL,
  graph_hashes TEXT NOT NULL,
  total_parameters INTEGER NOT NULL,
  max_tensor_bytes INTEGER NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE datasets (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  files TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX datasets_by_name ON datasets (name, created_at);

CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  checkpoint_id TEXT NOT NULL REFERENCES checkpoints (id),
  config TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('active', 'finished', 'cancelled')),
  published INTEGER NOT NULL DEFAULT 0,
  -- Aggregates frozen when the run is published (the leaderboard reads these).
  published_aggregates TEXT,
  verified INTEGER NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  finished_at TEXT
);

-- The prompts a run's shards hand out, built server-side from registered datasets.
CREATE TABLE run_tasks (
  run_id TEXT NOT NULL REFERENCES runs (id),
  task TEXT NOT NULL,
  task_hash TEXT NOT NULL,
  dataset_id TEXT NOT NULL,
  num_fewshot INTEGER NOT NULL,
  doc_count INTEGER NOT NULL,
  PRIMARY KEY (run_id, task)
);

CREATE TABLE run_docs (
  run_id TEXT NOT NULL,
  task TEXT NOT NULL,
  doc_index INTEGER NOT NULL,
  doc_id TEXT NOT NULL,
  doc_hash TEXT NOT NULL,
  prompt TEXT NOT NULL,
  prompt_hash TEXT NOT NULL,
  gold TEXT NOT NULL,
  PRIMARY KEY (run_id, task, doc_index)
);

CREATE TABLE shards (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs (id),
  task TEXT NOT NULL,
  recurrences INTEGER NOT NULL,
  doc_start INTEGER NOT NULL,
  doc_end INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'leased', 'done', 'failed', 'cancelled')),
  lease_id TEXT UNIQUE,
  holder TEXT,
  holder_trusted INTEGER NOT NULL DEFAULT 0,
  deadline INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  -- Copied from the checkpoint so the lease query needs no join.
  total_parameters INTEGER NOT NULL,
  max_tensor_bytes INTEGER NOT NULL
);
-- Leasing takes queued shards that failed before first, then the oldest (rowid order).
CREATE INDEX shards_queue ON shards (state, failures DESC);
CREATE INDEX shards_expiry ON shards (state, deadline);
CREATE INDEX shards_by_run ON shards (run_id, task, recurrences);
CREATE INDEX shards_by_run_state ON shards (run_id, state);

-- Every lease ever handed out, so a late runner's lease id is recognised (409, not 404).
CREATE TABLE leases (
  id TEXT PRIMARY KEY,
  shard_id TEXT NOT NULL REFERENCES shards (id),
  holder TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE shard_failures (
  shard_id TEXT NOT NULL REFERENCES shards (id),
  at TEXT NOT NULL,
  runner TEXT,
  reason TEXT NOT NULL
);
CREATE INDEX shard_failures_by_shard ON shard_failures (shard_id);

-- One record per (run, task, doc, r) (DESIGN §7). `record` is the SampleRecord JSON.
CREATE TABLE samples (
  run_id TEXT NOT NULL,
  task TEXT NOT NULL,
  doc_index INTEGER NOT NULL,
  recurrences INTEGER NOT NULL,
  result_key TEXT NOT NULL,
  record TEXT NOT NULL,
  correct INTEGER NOT NULL,
  trusted INTEGER NOT NULL,
  runner TEXT,
  reused INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  PRIMARY KEY (run_id, task, recurrences, doc_index)
);
CREATE INDEX samples_by_key ON samples (result_key);
