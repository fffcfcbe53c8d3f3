-- The clone URL GitHub gave for a run's repository (repository.clone_url of
-- the delivery), so that git fetches from where GitHub says instead of an
-- address derived from the API's (wrong on GitHub Enterprise Cloud with
-- data residency, and wherever git is served elsewhere).
CREATE TABLE run_clone_urls (
    run_id    TEXT NOT NULL PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    clone_url TEXT NOT NULL
);

-- GitHub Actions deployments waiting on stagegate's custom deployment
-- protection rule: answered through callback_url once the deploy gate of
-- the commit decides; until then re-evaluated when its checks change.
CREATE TABLE protection_requests (
    callback_url    TEXT    NOT NULL,
    environment     TEXT    NOT NULL,
    installation_id BIGINT  NOT NULL,
    repo            TEXT    NOT NULL,
    sha             TEXT    NOT NULL,
    workflow_run_id BIGINT  NOT NULL,
    created_at      BIGINT  NOT NULL,
    answered        BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (callback_url, environment)
);
CREATE INDEX protection_requests_pending ON protection_requests (repo, sha) WHERE NOT answered;
