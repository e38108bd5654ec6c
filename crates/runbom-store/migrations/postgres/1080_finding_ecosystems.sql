-- Each finding names the ecosystem of its component (`PyPI`, `Go`, …), so that the dashboard and
-- the API show Go findings beside Python ones. Rows from before take it from an observation of the
-- same component on an instance of the same application, when one is still stored; otherwise ''
-- (unknown), which readers show as such.

ALTER TABLE findings ADD COLUMN ecosystem TEXT NOT NULL DEFAULT '';

UPDATE findings SET ecosystem = COALESCE((
    SELECT MIN(o.ecosystem) FROM observations o JOIN instances i ON i.id = o.instance_id
    WHERE i.app = findings.app AND o.name = findings.name
      AND (o.version = findings.version OR findings.version = '')
), '');
