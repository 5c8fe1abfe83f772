DROP TABLE market_snapshots;
ALTER TABLE predictions DROP COLUMN provenance;
