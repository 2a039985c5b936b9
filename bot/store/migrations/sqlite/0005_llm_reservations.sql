-- Budget held by model calls in flight, so concurrent calls of one workflow cannot together
-- pass its budget. The usage row of a finished call replaces its reservation atomically.
CREATE TABLE llm_reservations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow_id INTEGER NOT NULL,
    role        TEXT NOT NULL,
    tokens      INTEGER NOT NULL,
    cost        REAL NOT NULL,
    created_at  REAL NOT NULL,
    expires_at  REAL NOT NULL
);

CREATE INDEX llm_reservations_workflow ON llm_reservations (workflow_id, expires_at);
