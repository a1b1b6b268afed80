-- Issue 13: datasets are immutable versions (id = hash of name and files); which version a task
-- name means is a separate pointer only an admin moves, so registering one changes nobody's runs.

ALTER TABLE datasets ADD COLUMN registered_by TEXT;

CREATE TABLE canonical_datasets (
  name TEXT PRIMARY KEY,
  dataset_id TEXT NOT NULL REFERENCES datasets (id),
  set_by TEXT,
  set_at TEXT NOT NULL
);

-- Before this migration runs used the newest version of each name: keep that meaning.
INSERT INTO canonical_datasets (name, dataset_id, set_by, set_at)
  SELECT d.name, d.id, NULL, d.created_at FROM datasets d
  WHERE d.rowid = (SELECT x.rowid FROM datasets x WHERE x.name = d.name
                   ORDER BY x.created_at DESC, x.rowid DESC LIMIT 1);

-- An upload belongs to the token that started it (DESIGN §8): others get 404, admins see all.
-- Uploads from before this migration have no owner, so only admins reach them.
ALTER TABLE uploads ADD COLUMN created_by TEXT;
