-- Budget held by model calls in flight, so concurrent calls of one workflow cannot together
-- pass its budget. The usage row of a finished call replaces its reservation atomically.
CREATE TABLE llm_reservations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_id BIGINT NOT NULL,
    role        TEXT NOT NULL,
    tokens      BIGINT NOT NULL,
    cost        DOUBLE PRECISION NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL,
    expires_at  DOUBLE PRECISION NOT NULL
);

CREATE INDEX llm_reservations_workflow ON llm_reservations (workflow_id, expires_at);
