-- stagegate's tables. Written in the SQL that SQLite and Postgres both
-- accept: BIGINT unix-millisecond timestamps (NULL when unset), TEXT for
-- JSON, BOOLEAN, no sequences (ids come from the application).

CREATE TABLE deliveries (
    guid            TEXT PRIMARY KEY,
    event           TEXT NOT NULL,
    action          TEXT NOT NULL DEFAULT '',
    installation_id BIGINT NOT NULL DEFAULT 0,
    repo            TEXT NOT NULL DEFAULT '',
    payload         TEXT NOT NULL,
    received_at     BIGINT NOT NULL,
    processed_at    BIGINT,
    result          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX deliveries_received_at ON deliveries (received_at);

CREATE TABLE installations (
    id            BIGINT PRIMARY KEY,
    account_login TEXT NOT NULL DEFAULT '',
    account_type  TEXT NOT NULL DEFAULT '',
    suspended     BOOLEAN NOT NULL DEFAULT FALSE,
    deleted       BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE installation_repos (
    installation_id BIGINT NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
    repo            TEXT NOT NULL,
    PRIMARY KEY (installation_id, repo)
);

CREATE TABLE runs (
    id               TEXT PRIMARY KEY,
    installation_id  BIGINT NOT NULL DEFAULT 0,
    repo             TEXT NOT NULL,
    sha              TEXT NOT NULL,
    event            TEXT NOT NULL,
    branch           TEXT NOT NULL DEFAULT '',
    tag              TEXT NOT NULL DEFAULT '',
    base_branch      TEXT NOT NULL DEFAULT '',
    pr               BIGINT NOT NULL DEFAULT 0,
    actor            TEXT NOT NULL DEFAULT '',
    fork             BOOLEAN NOT NULL DEFAULT FALSE,
    concurrency_key  TEXT NOT NULL DEFAULT '',
    mode             TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL CHECK (status IN ('queued', 'in_progress', 'completed')),
    conclusion       TEXT NOT NULL DEFAULT '',
    reason           TEXT NOT NULL DEFAULT '',
    pipeline         TEXT NOT NULL DEFAULT '',
    pipeline_path    TEXT NOT NULL DEFAULT '',
    pipeline_source  TEXT NOT NULL DEFAULT '',
    changed_files    TEXT, -- JSON array; NULL when unknown, which is not "none"
    summary_check_id BIGINT NOT NULL DEFAULT 0,
    superseded_by    TEXT NOT NULL DEFAULT '',
    rerun_of         TEXT NOT NULL DEFAULT '',
    rerun_from_stage TEXT NOT NULL DEFAULT '',
    delivery_guid    TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    started_at       BIGINT,
    finished_at      BIGINT
);
CREATE INDEX runs_status ON runs (status);
CREATE INDEX runs_key ON runs (repo, concurrency_key, status);
CREATE INDEX runs_sha ON runs (repo, sha, created_at);
CREATE INDEX runs_pr ON runs (repo, pr, created_at);

CREATE TABLE stages (
    run_id       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    position     INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'in_progress', 'completed')),
    conclusion   TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT '',
    check_run_id BIGINT NOT NULL DEFAULT 0,
    started_at   BIGINT,
    finished_at  BIGINT,
    outputs      TEXT NOT NULL DEFAULT '{}',
    artifacts    TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (run_id, name)
);
CREATE INDEX stages_check_run ON stages (check_run_id);

CREATE TABLE actions (
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    stage       TEXT NOT NULL,
    name        TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    is_rollback BOOLEAN NOT NULL DEFAULT FALSE,
    status      TEXT NOT NULL,
    exit_code   INTEGER NOT NULL DEFAULT 0,
    reason      TEXT NOT NULL DEFAULT '',
    started_at  BIGINT,
    duration_ms BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, stage, name, attempt, is_rollback)
);

CREATE TABLE log_lines (
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    stage       TEXT NOT NULL,
    action      TEXT NOT NULL,
    attempt     INTEGER NOT NULL DEFAULT 1,
    is_rollback BOOLEAN NOT NULL DEFAULT FALSE,
    stream      TEXT NOT NULL,
    logged_at   BIGINT NOT NULL,
    line        TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX log_lines_action ON log_lines (run_id, stage, action, seq);

CREATE TABLE artifacts (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    stage  TEXT NOT NULL,
    path   TEXT NOT NULL,
    size   BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (run_id, stage, path)
);
