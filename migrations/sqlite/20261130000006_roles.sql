-- Promgen's groups and object roles (spec 8.2): Admin, Editor, Viewer on a service or a
-- project, held by a user or a group, one role per principal per object; group members are
-- Admin or Member. An owner is Admin by ownership (not a row here).
CREATE TABLE user_group (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE group_member (
    group_id INTEGER NOT NULL REFERENCES user_group (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('ADMIN', 'MEMBER')),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_member_user ON group_member (user_id);

CREATE TABLE role_grant (
    id INTEGER PRIMARY KEY,
    service_id INTEGER REFERENCES service (id) ON DELETE CASCADE,
    project_id INTEGER REFERENCES project (id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    group_id INTEGER REFERENCES user_group (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('ADMIN', 'EDITOR', 'VIEWER')),
    CHECK ((service_id IS NULL) <> (project_id IS NULL)),
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX role_grant_service_user ON role_grant (service_id, user_id) WHERE service_id IS NOT NULL AND user_id IS NOT NULL;
CREATE UNIQUE INDEX role_grant_service_group ON role_grant (service_id, group_id) WHERE service_id IS NOT NULL AND group_id IS NOT NULL;
CREATE UNIQUE INDEX role_grant_project_user ON role_grant (project_id, user_id) WHERE project_id IS NOT NULL AND user_id IS NOT NULL;
CREATE UNIQUE INDEX role_grant_project_group ON role_grant (project_id, group_id) WHERE project_id IS NOT NULL AND group_id IS NOT NULL;
CREATE INDEX role_grant_user ON role_grant (user_id);
CREATE INDEX role_grant_group ON role_grant (group_id);

-- Owners hold the Admin role as a grant (Promgen's `assign_admin_to_owner` signal), so that
-- what was made before roles keeps its owners' rights.
INSERT INTO role_grant (service_id, user_id, role) SELECT id, owner_id, 'ADMIN' FROM service WHERE owner_id IS NOT NULL;
INSERT INTO role_grant (project_id, user_id, role) SELECT id, owner_id, 'ADMIN' FROM project WHERE owner_id IS NOT NULL;

-- Whether every logged-in user may read every service and project (Promgen 0.72 and before);
-- off: one reads what one holds a role on (spec 8.2).
ALTER TABLE site ADD COLUMN open_read INTEGER NOT NULL DEFAULT 0;
