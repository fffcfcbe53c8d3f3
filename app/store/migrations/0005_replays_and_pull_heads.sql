-- The SHA-256 of each delivery body taken in the last 24 hours. GitHub's
-- signature covers the body but not the X-GitHub-Delivery header, so the
-- same signed body under a new GUID is a replay, not news. Rows older
-- than 24 hours are pruned.
CREATE TABLE delivery_bodies (
    sha256      TEXT PRIMARY KEY,
    guid        TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX delivery_bodies_received_at ON delivery_bodies (received_at);

-- The head commits GitHub's pull_request deliveries reported for each
-- pull request, with the pull request's updated_at (GitHub's clock): the
-- evidence that a commit was the head before a command was written.
-- Rows older than 90 days are pruned.
CREATE TABLE pull_heads (
    repo       TEXT   NOT NULL,
    pr         BIGINT NOT NULL,
    sha        TEXT   NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (repo, pr, sha, updated_at)
);
