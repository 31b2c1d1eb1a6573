-- What each push agent (`promgen agent`, one beside each Prometheus server) last reported:
-- the inventory generation its files reflect, when it synced, the configuration hash of the
-- Prometheus it reloaded, and its last error (empty when none).
CREATE TABLE agent_status (
    shard_id BIGINT NOT NULL REFERENCES shard (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    generation BIGINT NOT NULL,
    synced_at TEXT NOT NULL,
    config_hash TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    reported_at TEXT NOT NULL,
    PRIMARY KEY (shard_id, name)
);

-- When the inventory last changed: an agent behind is told which change it has not applied.
ALTER TABLE inventory_generation ADD COLUMN changed TEXT NOT NULL DEFAULT '';
