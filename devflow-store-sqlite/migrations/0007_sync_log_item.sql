-- Sync history per host item: the item of each log line as a column, with its index.
ALTER TABLE sync_log ADD COLUMN item TEXT;
UPDATE sync_log SET item = json_extract(data, '$.item');
CREATE INDEX sync_log_item ON sync_log (item, seq);
