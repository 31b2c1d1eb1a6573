-- The last rule file that passed every check (in-process and promtool's), served while a newer
-- rendering is refused, so one bad rule never takes every rule down; shared by the replicas.
CREATE TABLE rule_file (
    id INTEGER PRIMARY KEY,
    generation BIGINT NOT NULL,
    body TEXT NOT NULL,
    checked TEXT NOT NULL
);
