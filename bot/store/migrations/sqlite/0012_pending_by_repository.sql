-- Issue 14 (review): the webhook door asks whether a delivery job of a repository is queued
-- or running. Delivery jobs carry their repository, and a partial index holds only the
-- pending ones, so the question costs one index probe however large the backlog is.
ALTER TABLE jobs ADD COLUMN repository TEXT;
UPDATE jobs SET repository = (SELECT d.repository FROM deliveries d
    WHERE d.id = substr(jobs.idempotency_key, 10))
    WHERE kind = 'delivery' AND state IN ('queued', 'running');
CREATE INDEX jobs_pending_deliveries ON jobs (repository)
    WHERE kind = 'delivery' AND state IN ('queued', 'running');
