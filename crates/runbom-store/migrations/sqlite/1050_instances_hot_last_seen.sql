-- A heartbeat moves only an instance's `last_seen`: with `last_seen` in no index, PostgreSQL
-- can make that update a heap-only tuple (HOT: no index entry written, the old version pruned
-- in its page without a vacuum), and SQLite writes no index b-tree. Silent instances are found
-- by scanning the live ones (the detector does it every tenth of `--gone-after`); retention
-- finds gone instances through this partial index, in id order.

DROP INDEX instances_live;
CREATE INDEX instances_gone ON instances (id) WHERE gone = 1;
