-- Issue 14: each repository's `.github/triad.yml`, as read at its default branch's commit, so
-- jobs and the webhook door do not ask GitHub for it on every delivery. `text` is NULL when the
-- file is absent (defaults apply). A row is replaced only by a read that started later
-- (`read_at`), so two refreshes racing cannot leave the older read in place.
CREATE TABLE repo_configs (
    repository TEXT PRIMARY KEY,
    commit_sha TEXT NOT NULL,
    text       TEXT,
    read_at    DOUBLE PRECISION NOT NULL
);
