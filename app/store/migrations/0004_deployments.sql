-- GitHub deployments a run started, so that a deployment interrupted by a
-- dead process is ended by the next one instead of staying in progress.
CREATE TABLE deployments (
    run_id        TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    stage         TEXT    NOT NULL,
    deployment_id BIGINT  NOT NULL,
    finished      BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (run_id, stage)
);
