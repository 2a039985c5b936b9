CREATE TABLE llm_usage (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    installation_id INTEGER NOT NULL,
    repository      TEXT NOT NULL,
    workflow_id     INTEGER,
    stage           TEXT NOT NULL,
    role            TEXT NOT NULL,
    provider        TEXT NOT NULL,
    model           TEXT NOT NULL,
    request_id      TEXT,
    input_tokens    INTEGER NOT NULL,
    output_tokens   INTEGER NOT NULL,
    cost            REAL NOT NULL,
    latency_ms      INTEGER NOT NULL,
    outcome         TEXT NOT NULL,
    created_at      REAL NOT NULL
);

CREATE INDEX llm_usage_workflow ON llm_usage (workflow_id);

CREATE INDEX llm_usage_installation ON llm_usage (installation_id, created_at);
