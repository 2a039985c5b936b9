CREATE TABLE llm_usage (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    installation_id BIGINT NOT NULL,
    repository      TEXT NOT NULL,
    workflow_id     BIGINT,
    stage           TEXT NOT NULL,
    role            TEXT NOT NULL,
    provider        TEXT NOT NULL,
    model           TEXT NOT NULL,
    request_id      TEXT,
    input_tokens    BIGINT NOT NULL,
    output_tokens   BIGINT NOT NULL,
    cost            DOUBLE PRECISION NOT NULL,
    latency_ms      BIGINT NOT NULL,
    outcome         TEXT NOT NULL,
    created_at      DOUBLE PRECISION NOT NULL
);

CREATE INDEX llm_usage_workflow ON llm_usage (workflow_id);

CREATE INDEX llm_usage_installation ON llm_usage (installation_id, created_at);
