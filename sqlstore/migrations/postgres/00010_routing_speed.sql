-- +goose Up
-- A routing batch stores its pool's candidates once: a decision whose
-- candidates are stored as changes over another's names it in base_id
-- (docs/ARCHITECTURE.md, "Group commit").
ALTER TABLE decisions ADD COLUMN base_id TEXT NOT NULL DEFAULT '';
-- Every write transaction of an account bumps its version, which is also
-- the account's lock, so that a process knows whether its cached routing
-- rows are current.
ALTER TABLE accounts ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
-- Each of these rows already refers to its account through a composite
-- key (messages and decisions to their conversation, conversations to
-- their contact), whose row refers to the account: the direct check was
-- a second one per row (some 7 % of the routing throughput).
ALTER TABLE messages DROP CONSTRAINT messages_account_id_fkey;
ALTER TABLE decisions DROP CONSTRAINT decisions_account_id_fkey;
ALTER TABLE conversations DROP CONSTRAINT conversations_account_id_fkey;

-- +goose Down
ALTER TABLE conversations ADD CONSTRAINT conversations_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
ALTER TABLE decisions ADD CONSTRAINT decisions_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
ALTER TABLE messages ADD CONSTRAINT messages_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
ALTER TABLE accounts DROP COLUMN version;
ALTER TABLE decisions DROP COLUMN base_id;
