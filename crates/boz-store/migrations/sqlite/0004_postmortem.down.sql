ALTER TABLE trades DROP COLUMN postmortem;
