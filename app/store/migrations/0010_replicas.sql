-- What replicas sharing one database coordinate through.

-- The lease on an executing run: the replica (owner) running it renews
-- expires_at with heartbeats; once it lapses, another replica may claim
-- the run and conclude or resume it.
CREATE TABLE run_leases (
    run_id     TEXT   NOT NULL PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    owner      TEXT   NOT NULL,
    claimed_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX run_leases_expires_at ON run_leases (expires_at);
CREATE INDEX run_leases_owner ON run_leases (owner);

-- The runs waiting for, or holding, an environment's deploy lock, in
-- arrival order (seq); the head of the line among live leases holds it.
CREATE TABLE env_lock_queue (
    repo        TEXT   NOT NULL,
    environment TEXT   NOT NULL,
    run_id      TEXT   NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    enqueued_at BIGINT NOT NULL,
    PRIMARY KEY (repo, environment, run_id)
);
CREATE UNIQUE INDEX env_lock_queue_order ON env_lock_queue (repo, environment, seq);

-- Requests to cancel a run, wherever it executes; the replica that holds
-- its lease consumes each once.
CREATE TABLE cancel_requests (
    run_id       TEXT   NOT NULL PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    reason       TEXT   NOT NULL,
    requested_at BIGINT NOT NULL,
    consumed_at  BIGINT
);

-- Secrets sealed with AES-256-GCM under STAGEGATE_SECRET_KEY: base64 of
-- nonce and ciphertext, and an id of the key that sealed them, so that a
-- wrong key is named as such.
CREATE TABLE sealed_secrets (
    name       TEXT   NOT NULL PRIMARY KEY,
    key_id     TEXT   NOT NULL,
    sealed     TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);
