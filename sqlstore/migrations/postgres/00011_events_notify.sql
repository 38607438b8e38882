-- +goose Up
-- Every statement that appends events notifies the listening processes
-- (sqlstore/listener.go) with one reference per account: the first and
-- last id of the account's events it inserted. The store used to send
-- these from Go once the events' ids had come back; from the database,
-- a routing batch's writes and its COMMIT travel in one round trip.
-- Within a statement no other transaction's event of that account can
-- have an id in between: an account's events are only appended under its
-- lock, which the transaction holds until it commits.
-- +goose StatementBegin
CREATE FUNCTION switchboard_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('switchboard_events',
        json_build_array(json_build_object('id', first, 'last', last, 'account_id', account_id, 'ref', true))::text)
    FROM (SELECT account_id, min(id) AS first, max(id) AS last FROM appended GROUP BY account_id) AS runs;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER events_notify AFTER INSERT ON events
    REFERENCING NEW TABLE AS appended
    FOR EACH STATEMENT EXECUTE FUNCTION switchboard_events_notify();

-- +goose Down
DROP TRIGGER events_notify ON events;
DROP FUNCTION switchboard_events_notify();
