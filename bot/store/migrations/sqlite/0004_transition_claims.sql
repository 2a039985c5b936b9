-- A transition's actions are carried out by one job at a time: the one holding its claim.
ALTER TABLE transitions ADD COLUMN claimed_until REAL NOT NULL DEFAULT 0;
