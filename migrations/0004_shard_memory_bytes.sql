-- Issue 17: a shard carries its checkpoint's estimated memory need (model/memory-ceiling.ts) so a
-- runner that declares its memory ceiling is leased by bytes, not by parameter count. Shards from
-- before this migration have none and are leased by parameters, as before.
ALTER TABLE shards ADD COLUMN memory_bytes INTEGER;
