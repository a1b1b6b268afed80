-- Issue 13: reuse names its source run, runs pin their dataset files, a lease that expired is
-- counted apart from a shard that failed, and a run with failed shards ends `incomplete`.

ALTER TABLE samples ADD COLUMN reused_from_run TEXT;

-- name → sha256 of every file of the dataset the run's prompts were built from.
ALTER TABLE run_tasks ADD COLUMN dataset_files TEXT NOT NULL DEFAULT '{}';

-- Leases that ran out (the runner vanished), budgeted apart from `failures` (the shard threw).
ALTER TABLE shards ADD COLUMN expiries INTEGER NOT NULL DEFAULT 0;
-- `vanished`: the lease ran out without a word; `threw`: the runner reported the shard failed.
ALTER TABLE shard_failures ADD COLUMN kind TEXT NOT NULL DEFAULT 'threw';

-- `incomplete` needs a new CHECK, which SQLite only takes by rebuilding the table.
PRAGMA defer_foreign_keys = true;
CREATE TABLE runs_new (
  id TEXT PRIMARY KEY,
  checkpoint_id TEXT NOT NULL REFERENCES checkpoints (id),
  config TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('active', 'finished', 'incomplete', 'cancelled')),
  published INTEGER NOT NULL DEFAULT 0,
  published_aggregates TEXT,
  verified INTEGER NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  finished_at TEXT
);
INSERT INTO runs_new (id, checkpoint_id, config, state, published, published_aggregates, verified, created_by, created_at, finished_at)
  SELECT id, checkpoint_id, config, state, published, published_aggregates, verified, created_by, created_at, finished_at FROM runs;
DROP TABLE runs;
ALTER TABLE runs_new RENAME TO runs;
