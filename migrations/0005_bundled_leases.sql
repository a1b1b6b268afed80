-- Issue 17: bundled leases. A runner that sweeps r may hold a shard and its queued siblings (same
-- run, task and documents, other r) under one lease id. `lease_id` stays unique per shard (the
-- bundle's first shard carries the runner's lease id, each sibling `<lease id>/r<r>`); `bundle` is
-- the lease id the runner holds, on every shard of the bundle (and on a single shard's lease).
ALTER TABLE shards ADD COLUMN bundle TEXT;
UPDATE shards SET bundle = lease_id WHERE lease_id IS NOT NULL;
CREATE INDEX shards_bundle ON shards (bundle);
-- What one r's KV caches add to `memory_bytes` when the shard rides along in a bundle
-- (model/memory-ceiling.ts); shards from before this migration have none and are leased alone.
ALTER TABLE shards ADD COLUMN cache_bytes INTEGER;
