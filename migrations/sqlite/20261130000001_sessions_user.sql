-- Sessions name their user, so a password change or reset can end them. Sessions made before
-- this column existed cannot be told apart: they end here, once.
DELETE FROM sessions;
ALTER TABLE sessions ADD COLUMN user_id BIGINT;
CREATE INDEX sessions_user ON sessions (user_id);
