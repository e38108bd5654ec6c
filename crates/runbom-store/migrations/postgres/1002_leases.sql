-- Leases: a named job that only one of several server processes sharing the store should run at
-- a time (the advisory feed poller). A holder keeps the lease until `expires_at` (Unix ms).

CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
