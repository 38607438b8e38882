-- The team email channel (issue 3). Keep it column-for-column equal to
-- the other dialect's 00003_email.sql.

-- +goose Up

-- Addresses route mail (RCPT TO an address picks its channel); they are
-- kept with the other channel keys (channel_keys, 00005) as "email:<address>".

-- smtp_settings is an account's outbound relay (R-E3).
CREATE TABLE smtp_settings (
    account_id   TEXT    NOT NULL PRIMARY KEY REFERENCES accounts (id),
    host         TEXT    NOT NULL,
    port         INTEGER NOT NULL,
    username     TEXT    NOT NULL,
    password     TEXT    NOT NULL,
    tls          TEXT    NOT NULL,
    from_address TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE smtp_settings;
