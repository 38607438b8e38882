-- Tickets, pipelines (R-T1 … R-T4) and outbound webhooks (R-X8). Keep it
-- column-for-column equal to ../sqlite/00006_tickets_webhooks.sql.

-- +goose Up
CREATE TABLE pipelines (
    id         TEXT    NOT NULL PRIMARY KEY,
    account_id TEXT    NOT NULL REFERENCES accounts (id),
    name       TEXT    NOT NULL,
    stages     TEXT    NOT NULL, -- JSON [{"id","name"}], in order
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    UNIQUE (account_id, id),
    UNIQUE (account_id, name)
);

CREATE TABLE tickets (
    id                 TEXT    NOT NULL PRIMARY KEY,
    account_id         TEXT    NOT NULL REFERENCES accounts (id),
    pipeline_id        TEXT    NOT NULL,
    stage_id           TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    description        TEXT    NOT NULL,
    owner_id           TEXT    NOT NULL,
    owner_set_manually BOOLEAN NOT NULL,
    contact_id         TEXT    NOT NULL,
    conversation_id    TEXT    NOT NULL,
    inbox_id           TEXT    NOT NULL,
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL,
    UNIQUE (account_id, id),
    FOREIGN KEY (account_id, pipeline_id) REFERENCES pipelines (account_id, id)
);

CREATE INDEX tickets_recent ON tickets (account_id, created_at DESC, id DESC);
CREATE INDEX tickets_contact ON tickets (account_id, contact_id);
CREATE INDEX tickets_pipeline_stage ON tickets (account_id, pipeline_id, stage_id);
CREATE INDEX tickets_conversation ON tickets (account_id, conversation_id);

CREATE TABLE ticket_limits (
    account_id    TEXT    NOT NULL PRIMARY KEY REFERENCES accounts (id),
    contact_limit BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);

CREATE TABLE conversation_flags (
    account_id      TEXT    NOT NULL REFERENCES accounts (id),
    conversation_id TEXT    NOT NULL,
    flag            TEXT    NOT NULL,
    detail          TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    PRIMARY KEY (account_id, conversation_id, flag)
);

CREATE TABLE webhooks (
    id         TEXT    NOT NULL PRIMARY KEY,
    account_id TEXT    NOT NULL REFERENCES accounts (id),
    url        TEXT    NOT NULL,
    events     TEXT    NOT NULL, -- JSON array of event types
    secret     TEXT    NOT NULL,
    active     BOOLEAN NOT NULL,
    event_cursor BIGINT NOT NULL, -- last event id queued for delivery
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    UNIQUE (account_id, id)
);

CREATE INDEX webhooks_active ON webhooks (account_id) WHERE active = TRUE;

CREATE TABLE webhook_deliveries (
    id            TEXT    NOT NULL PRIMARY KEY,
    account_id    TEXT    NOT NULL REFERENCES accounts (id),
    webhook_id    TEXT    NOT NULL,
    delivery_id   TEXT    NOT NULL,
    event_id      BIGINT  NOT NULL,
    event_type    TEXT    NOT NULL,
    attempt       BIGINT  NOT NULL,
    status_code   BIGINT  NOT NULL,
    response_body TEXT    NOT NULL,
    duration_ms   BIGINT  NOT NULL,
    error         TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);

CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (account_id, webhook_id, created_at DESC, id DESC);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE conversation_flags;
DROP TABLE ticket_limits;
DROP TABLE tickets;
DROP TABLE pipelines;
