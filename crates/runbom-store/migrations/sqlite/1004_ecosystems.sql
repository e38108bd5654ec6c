-- Languages besides Python (runtime report v2): each observed component carries its ecosystem and
-- each instance its language. Rows from before are Python and PyPI. SQLite cannot change a primary
-- key in place: observations are copied into a table keyed by ecosystem too.

ALTER TABLE instances ADD COLUMN language TEXT NOT NULL DEFAULT 'python';

CREATE TABLE observations_by_ecosystem (
    instance_id  INTEGER NOT NULL,
    ecosystem    TEXT NOT NULL DEFAULT 'PyPI',
    name         TEXT NOT NULL,
    version      TEXT NOT NULL,
    display_name TEXT NOT NULL,
    purl         TEXT NOT NULL,
    modules      TEXT NOT NULL,
    loaded       INTEGER NOT NULL,
    tampered     TEXT NOT NULL,
    digest       TEXT NOT NULL,
    first_seen   INTEGER NOT NULL,
    loaded_since INTEGER,
    PRIMARY KEY (instance_id, ecosystem, name, version)
);
INSERT INTO observations_by_ecosystem
    (instance_id, ecosystem, name, version, display_name, purl, modules, loaded, tampered, digest,
     first_seen, loaded_since)
    SELECT instance_id, 'PyPI', name, version, display_name, purl, modules, loaded, tampered, digest,
           first_seen, loaded_since
    FROM observations;
DROP TABLE observations;
ALTER TABLE observations_by_ecosystem RENAME TO observations;
CREATE INDEX observations_name ON observations (ecosystem, name, version);
