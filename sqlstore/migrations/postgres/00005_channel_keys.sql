-- Entry points of the platform channels (Messenger, WhatsApp): the
-- platform identifiers each channel claims in the whole installation
-- (R-F1), and Messenger's explicit GDPR consent per sender (R-F2).
-- Keep it column-for-column equal to ../sqlite/00005_channel_keys.sql.

-- +goose Up
CREATE TABLE channel_keys (
    key        TEXT    NOT NULL PRIMARY KEY, -- e.g. messenger:page:<page id>; unique in the installation
    account_id TEXT    NOT NULL REFERENCES accounts (id),
    channel_id TEXT    NOT NULL REFERENCES channels (id) ON DELETE CASCADE
);

CREATE INDEX channel_keys_channel ON channel_keys (channel_id);

CREATE TABLE channel_consents (
    account_id TEXT    NOT NULL REFERENCES accounts (id),
    channel_id TEXT    NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    subject    TEXT    NOT NULL, -- the sender's platform id (a Messenger PSID)
    status     TEXT    NOT NULL, -- pending, accepted, declined
    held       TEXT    NOT NULL, -- JSON: messages held until the sender accepts
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (channel_id, subject)
);

-- Channels connected before this migration claim their page or number
-- (the oldest channel wins if two name the same one).
INSERT INTO channel_keys (key, account_id, channel_id)
    SELECT DISTINCT ON (k) k, account_id, id FROM (
        SELECT 'messenger:page:' || (config::jsonb ->> 'page_id') AS k, account_id, id, created_at FROM channels
        WHERE kind = 'messenger' AND coalesce(config::jsonb ->> 'page_id', '') <> ''
        UNION ALL
        SELECT 'whatsapp:phone:' || (config::jsonb ->> 'phone_number_id'), account_id, id, created_at FROM channels
        WHERE kind = 'whatsapp' AND coalesce(config::jsonb ->> 'phone_number_id', '') <> ''
    ) AS claimed
    ORDER BY k, created_at, id
    ON CONFLICT DO NOTHING;

-- +goose Down
DROP TABLE channel_consents;
DROP TABLE channel_keys;
