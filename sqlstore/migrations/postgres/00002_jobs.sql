-- +goose Up
-- Channel-specific data of a message (email headers, attachments, form
-- hidden fields, call details) as JSON text, and the delivery state of an
-- outgoing reply.
ALTER TABLE messages ADD COLUMN meta TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN delivery TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN delivery_detail TEXT NOT NULL DEFAULT '';

-- The durable job queue: outgoing mail and replies, webhook deliveries,
-- reply timers. A job is pending until due (run_at), running while a
-- process holds its lease (locked_until), then done, failed or cancelled.
CREATE TABLE jobs (
    id           TEXT    NOT NULL PRIMARY KEY,
    account_id   TEXT    NOT NULL REFERENCES accounts (id),
    kind         TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    run_at       BIGINT NOT NULL,
    attempts     BIGINT NOT NULL,
    status       TEXT    NOT NULL,
    last_error   TEXT    NOT NULL,
    locked_until BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE status = 'pending';
CREATE INDEX jobs_leased ON jobs (locked_until) WHERE status = 'running';
CREATE UNIQUE INDEX jobs_pending_key ON jobs (account_id, kind, key) WHERE status = 'pending' AND key <> '';
CREATE INDEX jobs_by_kind ON jobs (account_id, kind, created_at);

-- +goose Down
DROP TABLE jobs;
ALTER TABLE messages DROP COLUMN delivery_detail;
ALTER TABLE messages DROP COLUMN delivery;
ALTER TABLE messages DROP COLUMN meta;
