-- Update tracking: what the package index said of each project a live instance runs (every
-- release with its date and PEP 592 yank, as runbom-model's Release list in JSON), when it was
-- last asked and answered, and the last error when the index could not be read. The server's
-- update poller writes it; the detector turns it into `outdated` and `yanked` findings.

CREATE TABLE index_releases (
    ecosystem  TEXT NOT NULL,
    name       TEXT NOT NULL,
    releases   TEXT NOT NULL,    -- JSON array; '[]' until the index first answered
    checked_at BIGINT NOT NULL,   -- last poll, answered or not
    changed_at BIGINT,            -- when `releases` last changed; NULL before any answer
    error      TEXT NOT NULL,    -- '' when the last poll was answered
    PRIMARY KEY (ecosystem, name)
);
