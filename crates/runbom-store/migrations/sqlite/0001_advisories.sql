-- The advisory store: OSV records as JSON text, indexed by (ecosystem, normalised package name)
-- and by every id and alias. `vuln_group` is the smallest id of the records that alias each other
-- (one vulnerability), recomputed at each import.

CREATE TABLE advisory_sources (
    name          TEXT PRIMARY KEY,
    location      TEXT NOT NULL,
    last_import   TEXT,
    last_checked  TEXT,
    etag          TEXT,
    last_modified TEXT
);

CREATE TABLE advisories (
    id         TEXT PRIMARY KEY,
    source     TEXT NOT NULL,
    modified   TEXT NOT NULL,
    withdrawn  TEXT,
    vuln_group TEXT NOT NULL,
    record     TEXT NOT NULL
);
CREATE INDEX advisories_vuln_group ON advisories (vuln_group);
CREATE INDEX advisories_source ON advisories (source);

CREATE TABLE advisory_ids (
    id          TEXT NOT NULL,
    advisory_id TEXT NOT NULL,
    PRIMARY KEY (id, advisory_id)
);
CREATE INDEX advisory_ids_advisory ON advisory_ids (advisory_id);

CREATE TABLE advisory_packages (
    ecosystem   TEXT NOT NULL,
    name        TEXT NOT NULL,
    advisory_id TEXT NOT NULL,
    PRIMARY KEY (ecosystem, name, advisory_id)
);
CREATE INDEX advisory_packages_advisory ON advisory_packages (advisory_id);
