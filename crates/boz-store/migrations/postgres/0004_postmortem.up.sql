-- Settlement (issue 7): the structured post-mortem of a settled trade, as JSON, beside the seed's
-- postmortem_narrative.
ALTER TABLE trades ADD COLUMN postmortem JSONB;
