-- The clone URL GitHub gave for a run's repository (repository.clone_url of
-- the delivery), so that git fetches from where GitHub says instead of an
-- address derived from the API's (wrong on GitHub Enterprise Cloud with
-- data residency, and wherever git is served elsewhere).
CREATE TABLE run_clone_urls (
    run_id    TEXT NOT NULL PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    clone_url TEXT NOT NULL
);
