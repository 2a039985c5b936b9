-- Issue 18: a transition's claim lives as long as the lease of the job holding it (claim_job,
-- claim_owner). `revision` is the workflow's revision right after the transition, so a late
-- replay can tell that the workflow moved past it, and `installation_id` lets the workers' sweep
-- finish a transition with no webhook. A dead job's failure is reported once (reported_at).
ALTER TABLE transitions ADD COLUMN claim_job BIGINT;
ALTER TABLE transitions ADD COLUMN claim_owner TEXT;
ALTER TABLE transitions ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE transitions ADD COLUMN installation_id BIGINT;
ALTER TABLE jobs ADD COLUMN reported_at DOUBLE PRECISION;

CREATE INDEX transitions_undone ON transitions (repository, issue_number, id) WHERE actions_done = 0;
CREATE INDEX jobs_dead ON jobs (state, kind) WHERE state = 'dead';

-- A REAL (4 bytes) holds an epoch only to 128 s: claims must compare to the second.
ALTER TABLE transitions ALTER COLUMN claimed_until TYPE DOUBLE PRECISION;
