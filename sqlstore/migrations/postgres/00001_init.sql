-- Switchboard's schema on PostgreSQL. Keep it column-for-column equal to
-- ../sqlite/00001_init.sql: the queries are shared.
--
-- Times are BIGINT unix microseconds UTC (0 = unset), as on SQLite, so that
-- ordering and cursors behave the same; lists and settings are JSON text
-- (TEXT, not JSONB, so that they come back byte for byte).

-- +goose Up
CREATE TABLE accounts (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    time_zone  TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);

CREATE TABLE users (
    id                    TEXT    NOT NULL PRIMARY KEY,
    account_id            TEXT    NOT NULL REFERENCES accounts (id),
    email                 TEXT    NOT NULL UNIQUE, -- lower-case, unique in the installation
    name                  TEXT    NOT NULL,
    role                  TEXT    NOT NULL,
    paid_seat             BOOLEAN NOT NULL,
    chat_capacity         INTEGER NOT NULL,
    manage_availability   BOOLEAN NOT NULL,
    status                TEXT    NOT NULL,
    status_set_by         TEXT    NOT NULL,
    reassign_replies      BOOLEAN NOT NULL,
    working_hours         TEXT    NOT NULL,
    out_of_office         TEXT    NOT NULL,
    password_hash         TEXT    NOT NULL,
    created_at            BIGINT  NOT NULL,
    open_chats            INTEGER NOT NULL DEFAULT 0,
    last_active_at        BIGINT  NOT NULL DEFAULT 0,
    last_chat_assigned_at BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (account_id, id)
);

CREATE TABLE tokens (
    id         TEXT    NOT NULL PRIMARY KEY,
    account_id TEXT    NOT NULL REFERENCES accounts (id),
    user_id    TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);

CREATE INDEX tokens_account_user ON tokens (account_id, user_id);

CREATE TABLE teams (
    id               TEXT    NOT NULL PRIMARY KEY,
    account_id       TEXT    NOT NULL REFERENCES accounts (id),
    name             TEXT    NOT NULL,
    main_member_ids  TEXT    NOT NULL,
    extra_member_ids TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL,
    UNIQUE (account_id, id)
);

CREATE TABLE inboxes (
    id         TEXT    NOT NULL PRIMARY KEY,
    account_id TEXT    NOT NULL REFERENCES accounts (id),
    name       TEXT    NOT NULL,
    team_ids   TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    UNIQUE (account_id, id)
);

CREATE TABLE channels (
    id         TEXT    NOT NULL PRIMARY KEY,
    account_id TEXT    NOT NULL REFERENCES accounts (id),
    inbox_id   TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    config     TEXT    NOT NULL,
    routing    TEXT    NOT NULL,
    tickets    TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    UNIQUE (account_id, id),
    FOREIGN KEY (account_id, inbox_id) REFERENCES inboxes (account_id, id)
);

CREATE INDEX channels_account_inbox ON channels (account_id, inbox_id);

CREATE TABLE contacts (
    id            TEXT    NOT NULL PRIMARY KEY,
    account_id    TEXT    NOT NULL REFERENCES accounts (id),
    email         TEXT    NOT NULL, -- lower-case
    name          TEXT    NOT NULL,
    phone         TEXT    NOT NULL,
    owner_id      TEXT    NOT NULL,
    visitor_token TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    UNIQUE (account_id, id)
);

CREATE UNIQUE INDEX contacts_account_email ON contacts (account_id, email) WHERE email <> '';
CREATE UNIQUE INDEX contacts_account_visitor_token ON contacts (account_id, visitor_token) WHERE visitor_token <> '';
CREATE INDEX contacts_account_phone ON contacts (account_id, phone);

CREATE TABLE conversations (
    id               TEXT    NOT NULL PRIMARY KEY,
    account_id       TEXT    NOT NULL REFERENCES accounts (id),
    inbox_id         TEXT    NOT NULL,
    channel_id       TEXT    NOT NULL,
    channel_kind     TEXT    NOT NULL,
    contact_id       TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    assignee_id      TEXT    NOT NULL,
    team_id          TEXT    NOT NULL,
    ticket_id        TEXT    NOT NULL,
    waiting          BOOLEAN NOT NULL,
    subject          TEXT    NOT NULL,
    preview          TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL,
    last_activity_at BIGINT  NOT NULL,
    closed_at        BIGINT  NOT NULL,
    UNIQUE (account_id, id),
    FOREIGN KEY (account_id, contact_id) REFERENCES contacts (account_id, id)
);

CREATE INDEX conversations_view ON conversations (account_id, status, last_activity_at DESC, id DESC);
CREATE INDEX conversations_activity ON conversations (account_id, last_activity_at DESC, id DESC);
CREATE INDEX conversations_assignee ON conversations (account_id, assignee_id, last_activity_at DESC, id DESC);
CREATE INDEX conversations_contact_channel ON conversations (account_id, contact_id, channel_id, created_at DESC, id DESC);
CREATE INDEX conversations_waiting ON conversations (account_id, created_at, id) WHERE waiting = TRUE;

CREATE TABLE messages (
    id              TEXT    NOT NULL PRIMARY KEY,
    account_id      TEXT    NOT NULL REFERENCES accounts (id),
    conversation_id TEXT    NOT NULL,
    channel_id      TEXT    NOT NULL,
    direction       TEXT    NOT NULL,
    author_user_id  TEXT    NOT NULL,
    contact_id      TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    external_id     TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    FOREIGN KEY (account_id, conversation_id) REFERENCES conversations (account_id, id)
);

CREATE UNIQUE INDEX messages_channel_external_id ON messages (channel_id, external_id) WHERE external_id <> '';
CREATE INDEX messages_conversation ON messages (conversation_id, created_at, id);

CREATE TABLE decisions (
    id              TEXT    NOT NULL PRIMARY KEY,
    account_id      TEXT    NOT NULL REFERENCES accounts (id),
    conversation_id TEXT    NOT NULL,
    trigger         TEXT    NOT NULL,
    mode            TEXT    NOT NULL,
    strategy        TEXT    NOT NULL,
    candidates      TEXT    NOT NULL,
    outcome         TEXT    NOT NULL,
    assignee_id     TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    tie_break       TEXT    NOT NULL,
    notify_owner    BOOLEAN NOT NULL,
    used_fallback   BOOLEAN NOT NULL,
    actor_user_id   TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    FOREIGN KEY (account_id, conversation_id) REFERENCES conversations (account_id, id)
);

CREATE INDEX decisions_conversation ON decisions (account_id, conversation_id, created_at, id);

CREATE TABLE events (
    id              BIGSERIAL NOT NULL PRIMARY KEY,
    account_id      TEXT    NOT NULL REFERENCES accounts (id),
    type            TEXT    NOT NULL,
    inbox_id        TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    user_id         TEXT    NOT NULL,
    data            TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL
);

CREATE INDEX events_account ON events (account_id, id);

-- +goose Down
DROP TABLE events;
DROP TABLE decisions;
DROP TABLE messages;
DROP TABLE conversations;
DROP TABLE contacts;
DROP TABLE channels;
DROP TABLE inboxes;
DROP TABLE teams;
DROP TABLE tokens;
DROP TABLE users;
DROP TABLE accounts;
