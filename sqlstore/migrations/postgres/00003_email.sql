-- The team email channel (issue 3). Keep it column-for-column equal to
-- the other dialect's 00003_email.sql.

-- +goose Up

-- channel_addresses routes mail: RCPT TO an address (lower-case) picks its
-- channel. The primary key makes an address unique in the installation.
CREATE TABLE channel_addresses (
    address    TEXT    NOT NULL PRIMARY KEY,
    account_id TEXT    NOT NULL,
    channel_id TEXT    NOT NULL,
    FOREIGN KEY (account_id, channel_id) REFERENCES channels (account_id, id) ON DELETE CASCADE
);

CREATE INDEX channel_addresses_channel ON channel_addresses (account_id, channel_id);

-- smtp_settings is an account's outbound relay (R-E3).
CREATE TABLE smtp_settings (
    account_id   TEXT    NOT NULL PRIMARY KEY REFERENCES accounts (id),
    host         TEXT    NOT NULL,
    port         INTEGER NOT NULL,
    username     TEXT    NOT NULL,
    password     TEXT    NOT NULL,
    tls          TEXT    NOT NULL,
    from_address TEXT    NOT NULL,
    updated_at   BIGINT NOT NULL
);

-- +goose Down
DROP TABLE smtp_settings;
DROP TABLE channel_addresses;
