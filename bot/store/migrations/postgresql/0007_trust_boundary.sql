-- The trust boundary (issue 13).
-- A delivery's body hash: a byte-identical body under a new delivery id is a replay, recorded
-- as a duplicate and never acted on. `reason` says why a delivery was not acted on.
ALTER TABLE deliveries ADD COLUMN body_hash TEXT;
ALTER TABLE deliveries ADD COLUMN reason TEXT;
CREATE UNIQUE INDEX deliveries_body_hash ON deliveries (body_hash) WHERE outcome <> 'duplicate';

-- The commits Triad itself made, by round: only these count as Triad's work on a branch.
CREATE TABLE triad_commits (
    repository   TEXT NOT NULL,
    issue_number INTEGER NOT NULL,
    round        INTEGER NOT NULL,
    sha          TEXT NOT NULL,
    branch       TEXT NOT NULL,
    created_at   DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (repository, issue_number, sha)
);

-- Refusals said to a person who may not act: one comment per person, issue and UTC day.
CREATE TABLE refusals (
    repository   TEXT NOT NULL,
    issue_number INTEGER NOT NULL,
    login        TEXT NOT NULL,
    day          INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    first_source TEXT NOT NULL,
    PRIMARY KEY (repository, issue_number, login, day)
);

-- Daily spend caps per installation and overall count what calls in flight hold, too.
ALTER TABLE llm_reservations ADD COLUMN installation_id BIGINT;
CREATE INDEX llm_reservations_expiry ON llm_reservations (expires_at);
CREATE INDEX llm_usage_created ON llm_usage (created_at)
