-- Inventory, users, sessions and audit. Flags are INTEGER 0/1 and times are RFC 3339 UTC text in
-- both backends, so every query decodes identically through sqlx's Any driver.
CREATE TABLE site (
    id INTEGER PRIMARY KEY,
    domain TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT ''
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    is_superuser INTEGER NOT NULL DEFAULT 0,
    is_active INTEGER NOT NULL DEFAULT 1,
    created TEXT NOT NULL
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    expiry BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expiry);

CREATE TABLE shard (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    auth_header TEXT,
    proxy INTEGER NOT NULL DEFAULT 0,
    enabled INTEGER NOT NULL DEFAULT 1,
    samples BIGINT NOT NULL DEFAULT 5000000,
    targets BIGINT NOT NULL DEFAULT 10000
);

CREATE TABLE prometheus (
    id INTEGER PRIMARY KEY,
    shard_id INTEGER NOT NULL REFERENCES shard (id) ON DELETE CASCADE,
    host TEXT NOT NULL,
    port INTEGER NOT NULL,
    UNIQUE (host, port)
);

CREATE TABLE service (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    owner_id INTEGER REFERENCES users (id) ON DELETE SET NULL
);

CREATE TABLE project (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    service_id INTEGER NOT NULL REFERENCES service (id) ON DELETE CASCADE,
    shard_id INTEGER NOT NULL REFERENCES shard (id) ON DELETE CASCADE,
    owner_id INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX project_service ON project (service_id);
CREATE INDEX project_shard ON project (shard_id);

CREATE TABLE farm (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'promgen',
    project_id INTEGER NOT NULL UNIQUE REFERENCES project (id) ON DELETE CASCADE
);

CREATE TABLE host (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    farm_id INTEGER NOT NULL REFERENCES farm (id) ON DELETE CASCADE,
    UNIQUE (name, farm_id)
);
-- Covers rendering: every farm's host names, in order, from the index alone.
CREATE INDEX host_farm ON host (farm_id, name);

CREATE TABLE default_exporter (
    id INTEGER PRIMARY KEY,
    job TEXT NOT NULL,
    port INTEGER NOT NULL,
    path TEXT NOT NULL DEFAULT '',
    scheme TEXT NOT NULL DEFAULT 'http',
    UNIQUE (job, port, path)
);
-- The quick-add list a new installation starts with (Promgen's exporters.yaml).
INSERT INTO default_exporter (id, job, port, path, scheme) VALUES
    (1, 'node', 9100, '', 'http'),
    (2, 'nginx', 9113, '', 'http'),
    (3, 'mysqld', 9104, '', 'http'),
    (4, 'apache', 9117, '', 'http');

CREATE TABLE exporter (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    job TEXT NOT NULL,
    port INTEGER NOT NULL,
    path TEXT NOT NULL DEFAULT '',
    scheme TEXT NOT NULL DEFAULT 'http',
    enabled INTEGER NOT NULL DEFAULT 1,
    UNIQUE (job, port, path, scheme, project_id)
);
CREATE INDEX exporter_project ON exporter (project_id);

CREATE TABLE probe (
    id INTEGER PRIMARY KEY,
    module TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE url (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    project_id INTEGER NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    probe_id INTEGER NOT NULL REFERENCES probe (id) ON DELETE CASCADE
);
CREATE INDEX url_project ON url (project_id);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    created TEXT NOT NULL,
    user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    object_type TEXT NOT NULL DEFAULT '',
    object_id BIGINT NOT NULL DEFAULT 0,
    parent_type TEXT NOT NULL DEFAULT '',
    parent_id BIGINT NOT NULL DEFAULT 0,
    old TEXT,
    data TEXT
);
CREATE INDEX audit_object ON audit (object_type, object_id);
CREATE INDEX audit_parent ON audit (parent_type, parent_id);

-- Bumped by every inventory change; lets any replica know its rendered files are stale.
CREATE TABLE inventory_generation (
    id INTEGER PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO inventory_generation (id, generation) VALUES (1, 0);

-- Objects of a Promgen export that no issue owns yet (rules, notifiers, tokens, alerts, ...):
-- kept verbatim so the issue that adds the model can load them, never silently dropped.
CREATE TABLE promgen_pending (
    model TEXT NOT NULL,
    pk TEXT NOT NULL,
    fields TEXT NOT NULL,
    imported TEXT NOT NULL,
    PRIMARY KEY (model, pk)
);
