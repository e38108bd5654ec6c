-- Who may see what: tokens get scopes (read, report, upload, triage, admin) and may belong to a
-- team; teams own applications; users log in to the dashboard (argon2id password hashes) and
-- belong to teams; dashboard sessions are kept server-side (the cookie holds a random id, the
-- store its sha256). Tokens from before keep what they could do: app tokens report and upload
-- for their application, admin tokens administer and read everything.

ALTER TABLE server_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE server_tokens ADD COLUMN team TEXT;
UPDATE server_tokens SET scopes = 'report,upload' WHERE app IS NOT NULL;
UPDATE server_tokens SET scopes = 'read,upload,triage,admin' WHERE app IS NULL;

CREATE TABLE teams (
    name       TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);

-- Each application has at most one owning team.
CREATE TABLE team_applications (
    app  TEXT PRIMARY KEY,
    team TEXT NOT NULL
);
CREATE INDEX team_applications_team ON team_applications (team);

CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,  -- PHC string, argon2id
    admin         BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);

CREATE TABLE team_members (
    team      TEXT NOT NULL,
    user_name TEXT NOT NULL,
    PRIMARY KEY (team, user_name)
);
CREATE INDEX team_members_user ON team_members (user_name);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,  -- sha256 of the cookie's random id
    user_name  TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
