-- Which Prometheus release reads the rules: set by hand on a shard, or read from its
-- servers' /api/v1/status/buildinfo (and whether its feature flags enable the experimental
-- PromQL functions); the site's default stands in while no shard's version is known.
ALTER TABLE shard ADD COLUMN prometheus_version TEXT;
ALTER TABLE shard ADD COLUMN detected_version TEXT;
ALTER TABLE shard ADD COLUMN detected_experimental INTEGER NOT NULL DEFAULT 0;
ALTER TABLE shard ADD COLUMN detected_at TEXT;
ALTER TABLE shard ADD COLUMN detect_error TEXT;
ALTER TABLE site ADD COLUMN prometheus_version TEXT NOT NULL DEFAULT '2.42';
