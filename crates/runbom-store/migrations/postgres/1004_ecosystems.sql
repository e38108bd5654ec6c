-- Languages besides Python (runtime report v2): each observed component carries its ecosystem and
-- each instance its language. Rows from before are Python and PyPI.

ALTER TABLE instances ADD COLUMN language TEXT NOT NULL DEFAULT 'python';

ALTER TABLE observations ADD COLUMN ecosystem TEXT NOT NULL DEFAULT 'PyPI';
ALTER TABLE observations DROP CONSTRAINT observations_pkey;
ALTER TABLE observations ADD PRIMARY KEY (instance_id, ecosystem, name, version);
DROP INDEX observations_name;
CREATE INDEX observations_name ON observations (ecosystem, name, version);
