CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    event           TEXT NOT NULL,
    action          TEXT,
    installation_id BIGINT,
    repository      TEXT,
    sender          TEXT,
    outcome         TEXT NOT NULL,
    body            BYTEA NOT NULL,
    received_at     DOUBLE PRECISION NOT NULL
);

CREATE TABLE jobs (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE,
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    run_at           DOUBLE PRECISION NOT NULL,
    lease_owner      TEXT,
    lease_expires_at DOUBLE PRECISION,
    last_error       TEXT,
    created_at       DOUBLE PRECISION NOT NULL,
    finished_at      DOUBLE PRECISION
);

CREATE INDEX jobs_claimable ON jobs (state, run_at);
