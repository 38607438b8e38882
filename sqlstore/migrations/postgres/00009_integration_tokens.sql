-- +goose Up
-- A token's scope: '' for a person's token (sign-in, API), 'integration'
-- for an integration token, which may only send inbound messages.
ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT '';
CREATE INDEX tokens_by_account_scope ON tokens (account_id, scope, created_at);

-- +goose Down
DROP INDEX tokens_by_account_scope;
ALTER TABLE tokens DROP COLUMN scope;
