-- Rules: alert and recording rules owned by the site, a service or a project (both owner
-- columns NULL = the site). Labels and annotations are JSON objects. `builtin` marks a rule
-- of the default pack that nobody has changed yet.
ALTER TABLE site ADD COLUMN scheme TEXT NOT NULL DEFAULT 'http';
-- Set once the default rule pack was installed (or an import made it moot): it is offered once.
ALTER TABLE site ADD COLUMN rule_pack INTEGER NOT NULL DEFAULT 0;
-- The site: its domain names the site rule group and, with the scheme, the `rule` links.
INSERT INTO site (id, domain, name) VALUES (1, '127.0.0.1:3000', 'Promgen') ON CONFLICT (id) DO NOTHING;

CREATE TABLE rule (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL DEFAULT 'alert' CHECK (kind IN ('alert', 'record')),
    name TEXT NOT NULL,
    expr TEXT NOT NULL,
    duration TEXT NOT NULL DEFAULT '',
    enabled INTEGER NOT NULL DEFAULT 1,
    description TEXT NOT NULL DEFAULT '',
    labels TEXT NOT NULL DEFAULT '{}',
    annotations TEXT NOT NULL DEFAULT '{}',
    parent_id INTEGER REFERENCES rule (id) ON DELETE SET NULL,
    service_id INTEGER REFERENCES service (id) ON DELETE CASCADE,
    project_id INTEGER REFERENCES project (id) ON DELETE CASCADE,
    builtin INTEGER NOT NULL DEFAULT 0,
    CHECK (service_id IS NULL OR project_id IS NULL)
);
-- An alert's name is its `alertname`: unique everywhere, as in Promgen. A recording rule's
-- overrides share its name, one per owner.
CREATE UNIQUE INDEX rule_alert_name ON rule (name) WHERE kind = 'alert';
CREATE UNIQUE INDEX rule_record_name ON rule (name, COALESCE(service_id, 0), COALESCE(project_id, 0)) WHERE kind = 'record';
-- One override of a rule per owner: overriding twice returns the first.
CREATE UNIQUE INDEX rule_override ON rule (parent_id, COALESCE(service_id, 0), COALESCE(project_id, 0)) WHERE parent_id IS NOT NULL;
CREATE INDEX rule_service ON rule (service_id);
CREATE INDEX rule_project ON rule (project_id);
