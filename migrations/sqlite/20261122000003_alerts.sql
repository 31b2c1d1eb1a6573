-- Alerts from Alertmanager, who hears about them (notifiers and their filters), the outbox of
-- notifications still to send, the event log the live feed replays, and API tokens.

-- API tokens: only a hash of the key is kept; the key is shown once when made.
CREATE TABLE token (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash TEXT NOT NULL UNIQUE,
    -- The first characters of the key, to tell tokens apart on the profile page.
    prefix TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    last_used TEXT
);
CREATE INDEX token_user ON token (user_id);
-- Promgen's `promgen.process_alert` permission: may post to the Alertmanager webhook.
ALTER TABLE users ADD COLUMN process_alerts INTEGER NOT NULL DEFAULT 0;

-- A notifier belongs to the site, a service, a project or a user (all owner columns NULL: the
-- site, whose notifiers hear about the alert pipeline itself).
CREATE TABLE notifier (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    alias TEXT NOT NULL DEFAULT '',
    service_id INTEGER REFERENCES service (id) ON DELETE CASCADE,
    project_id INTEGER REFERENCES project (id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    -- Empty: the kind's default message (Promgen's templates).
    subject_template TEXT NOT NULL DEFAULT '',
    body_template TEXT NOT NULL DEFAULT ''
);
CREATE INDEX notifier_service ON notifier (service_id);
CREATE INDEX notifier_project ON notifier (project_id);
CREATE INDEX notifier_user ON notifier (user_id);

CREATE TABLE notifier_filter (
    id INTEGER PRIMARY KEY,
    notifier_id INTEGER NOT NULL REFERENCES notifier (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (notifier_id, name, value)
);

-- One webhook delivery from Alertmanager: a notification about one group of alerts.
CREATE TABLE alert (
    id INTEGER PRIMARY KEY,
    received TEXT NOT NULL,
    status TEXT NOT NULL,
    group_key TEXT NOT NULL DEFAULT '',
    alertname TEXT NOT NULL DEFAULT '',
    service TEXT NOT NULL DEFAULT '',
    project TEXT NOT NULL DEFAULT '',
    alerts INTEGER NOT NULL DEFAULT 0,
    -- The group's common labels (JSON), for lists and filters.
    labels TEXT NOT NULL DEFAULT '{}',
    body TEXT NOT NULL,
    -- The payload as notifiers get it: Promgen's expansion (links to this alert and to the
    -- service and project it routed to).
    expanded TEXT NOT NULL DEFAULT '',
    -- Why it went where it went (JSON list of sentences).
    routing TEXT NOT NULL DEFAULT '[]',
    sent_count INTEGER NOT NULL DEFAULT 0,
    error_count INTEGER NOT NULL DEFAULT 0,
    user_id INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX alert_received ON alert (received);
CREATE INDEX alert_group ON alert (alertname, service);

-- Every label of every alert of the delivery, for search.
CREATE TABLE alert_label (
    alert_id INTEGER NOT NULL REFERENCES alert (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (alert_id, name, value)
);
CREATE INDEX alert_label_value ON alert_label (name, value);

-- Deliveries seen recently (group key, status and fingerprints): a repeat within the window is
-- a duplicate and notifies nobody again.
CREATE TABLE alert_dedupe (
    key TEXT PRIMARY KEY,
    alert_id INTEGER NOT NULL,
    received TEXT NOT NULL
);

-- One row per notification to send: the queue, durable across crashes and shared by replicas.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alert (id) ON DELETE CASCADE,
    notifier_id INTEGER REFERENCES notifier (id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    -- queued | sending | sent | failed
    status TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT NOT NULL,
    -- A claim expires at lease_until: a worker that died mid-send releases its rows.
    lease_until TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    done TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt);
CREATE INDEX outbox_alert ON outbox (alert_id);

-- What happened to alerts, in order: the live feed replays it to browsers that reconnect, and
-- the alert page shows it (routing decisions, every delivery attempt).
CREATE TABLE alert_event (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alert (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL
);
CREATE INDEX alert_event_alert ON alert_event (alert_id);

-- When the always-firing heartbeat alert (Watchdog) last arrived, and whether its absence was
-- reported.
CREATE TABLE heartbeat (
    id INTEGER PRIMARY KEY,
    last_seen TEXT,
    missing_since TEXT
);
INSERT INTO heartbeat (id) VALUES (1);
