-- +goose Up
-- PostgreSQL only (its events notify the other processes from a
-- trigger); SQLite publishes a transaction's events in process after
-- commit. Kept so that both dialects have the same versions.
SELECT 1;

-- +goose Down
SELECT 1;
