-- Weighted capacity (R-X5): one setting per account, and an index that
-- lets a routing snapshot count each user's open conversations per kind
-- without reading the conversations themselves.

-- +goose Up
CREATE TABLE routing_weights (
    account_id TEXT    NOT NULL PRIMARY KEY REFERENCES accounts (id),
    enabled    INTEGER NOT NULL,
    costs      TEXT    NOT NULL, -- JSON object: channel kind -> units
    capacities TEXT    NOT NULL, -- JSON object: user id -> units
    updated_at INTEGER  NOT NULL
) STRICT;

CREATE INDEX conversations_open_load ON conversations (account_id, status, assignee_id, channel_kind);

-- +goose Down
DROP INDEX conversations_open_load;
DROP TABLE routing_weights;
