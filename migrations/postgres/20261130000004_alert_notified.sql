-- How many notifications a delivery queued: none means nobody was told, which the alerts
-- page flags. Deliveries stored before count their outbox rows.
ALTER TABLE alert ADD COLUMN notified INTEGER NOT NULL DEFAULT 0;
UPDATE alert SET notified = (SELECT COUNT(*) FROM outbox o WHERE o.alert_id = alert.id);
