-- What the run, repository and organisation pages need beyond the runs.
--
-- Whether a repository is private, as the latest webhook delivery about it
-- said (repository.private): a private repository's pages are shown only
-- to users who can read it. A repository never seen here is treated as
-- private.
CREATE TABLE repo_visibility (
    repo       TEXT PRIMARY KEY,
    private    BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The requirements a deploy stage's gate last showed (JSON), and its
-- environment: the run page lists them, the repository page finds a
-- deployment's environment here.
CREATE TABLE run_gates (
    run_id       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    stage        TEXT NOT NULL,
    environment  TEXT NOT NULL,
    decision     TEXT NOT NULL DEFAULT '',
    requirements TEXT NOT NULL DEFAULT '[]',
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (run_id, stage)
);

-- A repository's latest runs, and the latest of each branch or pull
-- request (the badge, the repository page).
CREATE INDEX runs_repo_created ON runs (repo, created_at);
CREATE INDEX runs_repo_key_created ON runs (repo, concurrency_key, created_at);
