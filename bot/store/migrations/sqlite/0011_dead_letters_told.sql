-- Issue 18 (review): how a dead job's death was reported (reported_at says when). Values:
-- `workflow` (a stage job, whose workflow went to needs-human with a comment), `comment` (a
-- delivery job, said on its issue), `log` (nobody on GitHub to tell: no issue, or the
-- repository or installation is gone, and the log and the metric say it). NULL with
-- reported_at set means `workflow`.
ALTER TABLE jobs ADD COLUMN reported_how TEXT;
