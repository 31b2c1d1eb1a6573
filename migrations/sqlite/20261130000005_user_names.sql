-- Promgen's user fields that its REST API shows (`first_name`, `last_name`, `is_staff`).
ALTER TABLE users ADD COLUMN first_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN is_staff INTEGER NOT NULL DEFAULT 0;
