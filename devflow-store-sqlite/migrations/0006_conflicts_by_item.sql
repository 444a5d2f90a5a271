-- A field conflict spanning several systems is found by its host item across
-- connections.
CREATE INDEX conflicts_item ON conflicts (item, status) WHERE item IS NOT NULL;
