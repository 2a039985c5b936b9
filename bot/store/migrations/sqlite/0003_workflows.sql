CREATE TABLE workflows (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    repository      TEXT NOT NULL,
    issue_number    INTEGER NOT NULL,
    installation_id INTEGER NOT NULL,
    stage           TEXT NOT NULL,
    revision        INTEGER NOT NULL,
    data            TEXT NOT NULL,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL,
    UNIQUE (repository, issue_number)
);

CREATE TABLE transitions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    repository   TEXT NOT NULL,
    issue_number INTEGER NOT NULL,
    source       TEXT NOT NULL,
    cause        TEXT NOT NULL,
    actor        TEXT,
    from_stage   TEXT,
    to_stage     TEXT,
    reason       TEXT NOT NULL,
    actions      TEXT NOT NULL,
    actions_done INTEGER NOT NULL DEFAULT 0,
    at           REAL NOT NULL,
    UNIQUE (repository, issue_number, source)
);
