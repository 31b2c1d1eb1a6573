-- An alert's page names the newest later message of its group (the one that resolved it):
-- looked up by group_key, newest id first.
CREATE INDEX alert_group_key ON alert (group_key, id);
