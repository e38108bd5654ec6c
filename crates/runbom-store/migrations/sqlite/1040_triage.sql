-- Triage: one analysis per finding (CycloneDX's: state, justification, responses, detail), kept
-- under the finding's key so that it outlives the finding resolving and reopening, with the
-- evidence it was made on (`loaded` or `installed`): when the finding's evidence changes, a
-- suppressing analysis reopens. Every change is in the audit trail (who, when, before and after
-- as JSON). Also what a finding's detection time counts from: the later of the advisory's
-- publication, its first arrival in this store and the component's first sighting.

CREATE TABLE finding_analyses (
    key           TEXT PRIMARY KEY,
    app           TEXT NOT NULL,
    state         TEXT NOT NULL,  -- in_triage | exploitable | not_affected | false_positive | resolved
    justification TEXT NOT NULL,  -- CycloneDX justification, '' unless not_affected
    response      TEXT NOT NULL,  -- CycloneDX responses, comma-separated
    detail        TEXT NOT NULL,
    evidence      TEXT NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX finding_analyses_state ON finding_analyses (state);

CREATE TABLE finding_audit (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL,
    app         TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          INTEGER NOT NULL,
    before_json TEXT NOT NULL,  -- '' when there was no analysis
    after_json  TEXT NOT NULL
);
CREATE INDEX finding_audit_key ON finding_audit (key, id);

-- When each advisory record first arrived; NULL for the records stored before this table (their
-- arrival is unknown and is not guessed).
CREATE TABLE advisory_arrivals (
    id        TEXT PRIMARY KEY,
    stored_at INTEGER
);
INSERT INTO advisory_arrivals (id, stored_at) SELECT id, NULL FROM advisories;

ALTER TABLE findings ADD COLUMN detectable_at INTEGER;
ALTER TABLE findings ADD COLUMN detectable_from TEXT NOT NULL DEFAULT '';
