-- Refusals are also capped per person and day across an installation (issue 13): one outsider
-- commanding on fifty issues is told a few times, not fifty. `said` marks the refusals said
-- in a comment, and `installation_id` is 0 where it is not known (rows from before).
ALTER TABLE refusals ADD COLUMN installation_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE refusals ADD COLUMN said INTEGER NOT NULL DEFAULT 1;
CREATE INDEX refusals_per_person ON refusals (login, day, installation_id);
