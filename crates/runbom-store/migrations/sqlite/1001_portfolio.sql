-- The server's portfolio: tokens, applications, instances (one observed program run each) and
-- what they run (observations), expected inventories per release, findings, webhooks and their
-- deliveries, and a change log other server processes poll. Times are Unix milliseconds.

CREATE TABLE server_tokens (
    id         TEXT PRIMARY KEY,
    app        TEXT,            -- NULL: an admin token
    hash       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE applications (
    name       TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
);

CREATE TABLE instances (
    id           INTEGER PRIMARY KEY,
    app          TEXT NOT NULL,
    environment  TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    command      TEXT NOT NULL,
    interpreter  TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    gone         INTEGER NOT NULL DEFAULT 0,
    complete     INTEGER NOT NULL DEFAULT 0,
    state_digest TEXT NOT NULL,
    UNIQUE (app, session_id)
);
CREATE INDEX instances_live ON instances (gone, last_seen);

CREATE TABLE reports (
    report_id   TEXT PRIMARY KEY,
    instance_id INTEGER NOT NULL,
    sequence    INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    changed     INTEGER NOT NULL
);
CREATE INDEX reports_instance ON reports (instance_id);

CREATE TABLE observations (
    instance_id  INTEGER NOT NULL,
    name         TEXT NOT NULL,
    version      TEXT NOT NULL,
    display_name TEXT NOT NULL,
    purl         TEXT NOT NULL,
    modules      TEXT NOT NULL,  -- JSON array of the module names loaded
    loaded       INTEGER NOT NULL,
    tampered     TEXT NOT NULL,  -- JSON array of the files whose sha256 differs from RECORD
    digest       TEXT NOT NULL,
    first_seen   INTEGER NOT NULL,
    loaded_since INTEGER,
    PRIMARY KEY (instance_id, name, version)
);
CREATE INDEX observations_name ON observations (name, version);

CREATE TABLE releases (
    app         TEXT NOT NULL,
    release     TEXT NOT NULL,
    source      TEXT NOT NULL,
    uploaded_at INTEGER NOT NULL,
    PRIMARY KEY (app, release)
);

CREATE TABLE expected_components (
    app     TEXT NOT NULL,
    release TEXT NOT NULL,
    name    TEXT NOT NULL,
    version TEXT NOT NULL,  -- '' when the source pins no exact version
    PRIMARY KEY (app, release, name, version)
);

CREATE TABLE findings (
    key           TEXT PRIMARY KEY,
    app           TEXT NOT NULL,
    kind          TEXT NOT NULL,
    severity      TEXT NOT NULL,
    name          TEXT NOT NULL,
    version       TEXT NOT NULL,
    advisory_id   TEXT NOT NULL,  -- '' when not about an advisory
    in_use        INTEGER NOT NULL,
    summary       TEXT NOT NULL,
    detail        TEXT NOT NULL,  -- JSON
    published_at  INTEGER,        -- the advisory's publication time
    opened_at     INTEGER NOT NULL,
    resolved_at   INTEGER
);
CREATE INDEX findings_app ON findings (app, resolved_at);
CREATE INDEX findings_open ON findings (resolved_at, kind);

CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    format     TEXT NOT NULL,  -- json | slack
    created_at INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id           INTEGER PRIMARY KEY,
    webhook_id   TEXT NOT NULL,
    event_key    TEXT NOT NULL,
    payload      TEXT NOT NULL,
    status       TEXT NOT NULL,  -- pending | sending | delivered | failed
    attempts     INTEGER NOT NULL,
    next_attempt INTEGER NOT NULL,
    last_error   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    delivered_at INTEGER,
    UNIQUE (webhook_id, event_key)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt);

CREATE TABLE change_log (
    id   INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    app  TEXT NOT NULL,
    at   INTEGER NOT NULL
);

CREATE TABLE kpi_snapshots (
    at      INTEGER NOT NULL PRIMARY KEY,
    summary TEXT NOT NULL  -- JSON
);
