-- Approvals of deploys and of fork pull requests. Each binds to the exact
-- commit it was given for: a new push has a new SHA and needs a new one.
CREATE TABLE approvals (
    repo         TEXT    NOT NULL,
    sha          TEXT    NOT NULL,
    -- kind is 'deploy' (scope: the environment) or 'ok-to-test' (scope: '').
    kind         TEXT    NOT NULL,
    scope        TEXT    NOT NULL DEFAULT '',
    approver     TEXT    NOT NULL,
    approved_at  BIGINT  NOT NULL,
    PRIMARY KEY (repo, sha, kind, scope)
);
