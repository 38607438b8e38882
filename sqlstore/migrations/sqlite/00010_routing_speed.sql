-- +goose Up
-- A routing batch stores its pool's candidates once: a decision whose
-- candidates are stored as changes over another's names it in base_id
-- (docs/ARCHITECTURE.md, "Group commit").
ALTER TABLE decisions ADD COLUMN base_id TEXT NOT NULL DEFAULT '';
-- Every write transaction of an account bumps its version (PostgreSQL),
-- so that a process knows whether its cached routing rows are current.
ALTER TABLE accounts ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE accounts DROP COLUMN version;
ALTER TABLE decisions DROP COLUMN base_id;
