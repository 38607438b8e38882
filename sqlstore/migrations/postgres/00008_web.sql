-- +goose Up
-- The web inbox's view counts group open conversations by inbox, assignee
-- and team; this index lets them count without reading the table.
CREATE INDEX conversations_counts ON conversations (account_id, status, inbox_id, assignee_id, team_id);

-- +goose Down
DROP INDEX conversations_counts;
