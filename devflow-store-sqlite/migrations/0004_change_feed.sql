-- The host's change feed: every write of a work item takes the next change number, so
-- the engine can carry an edit that came from one system on to the others, after a
-- crash too (it reads what changed after the last number it handled).
ALTER TABLE work_items ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE work_items SET seq = rowid;
CREATE INDEX work_items_seq ON work_items (seq);
