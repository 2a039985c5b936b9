-- A transition names the delivery that caused it (NULL: a job's own event, or a transition
-- stored before): a command is decided once per comment and an event on Triad's pull request
-- under its issue, so neither is found by the delivery's id as its source, and a delivery job
-- that died after deciding was said to be lost ("post the command again": acted twice).
ALTER TABLE transitions ADD COLUMN delivery_id TEXT;
CREATE INDEX transitions_by_delivery ON transitions (delivery_id) WHERE delivery_id IS NOT NULL;
