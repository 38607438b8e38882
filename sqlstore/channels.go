package sqlstore

import (
	"context"
	"encoding/json"

	sb "github.com/switchboard-dev/switchboard"
)

const channelColumns = `id, account_id, inbox_id, kind, name, config, routing, tickets, created_at`

var (
	qCreateChannel = newQuery("create_channel", `INSERT INTO channels (`+channelColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`)
	qUpdateChannel = newQuery("update_channel", `UPDATE channels SET inbox_id = $3, kind = $4,
		name = $5, config = $6, routing = $7, tickets = $8
		WHERE account_id = $1 AND id = $2`)
	qDeleteChannel = newQuery("delete_channel",
		`DELETE FROM channels WHERE account_id = $1 AND id = $2`)
	qChannel = newQuery("channel",
		`SELECT `+channelColumns+` FROM channels WHERE account_id = $1 AND id = $2`)
	qChannelByID = newQuery("channel_by_id",
		`SELECT `+channelColumns+` FROM channels WHERE id = $1`)
	qChannels = newQuery("channels",
		`SELECT `+channelColumns+` FROM channels WHERE account_id = $1 ORDER BY created_at, id`)
	qChannelsOfInbox = newQuery("channels_of_inbox", `SELECT `+channelColumns+` FROM channels
		WHERE account_id = $1 AND inbox_id = $2 ORDER BY created_at, id`)
)

// channelArgs returns the columns of qUpdateChannel from $3 on.
func channelArgs(c *sb.Channel) ([]any, error) {
	routing, err := jsonText(c.Routing)
	if err != nil {
		return nil, err
	}
	tickets, err := jsonText(c.Tickets)
	if err != nil {
		return nil, err
	}
	return []any{c.InboxID, string(c.Kind), c.Name, rawText(c.Config), routing, tickets}, nil
}

// CreateChannel inserts c, generating its ID if empty. Config is stored
// byte for byte. NotFound if the account or the inbox does not exist;
// Conflict if the id exists.
func (t *tx) CreateChannel(ctx context.Context, c *sb.Channel) error {
	const op, what = "sqlstore.CreateChannel", "channel"
	id, err := newID(c.ID)
	if err != nil {
		return t.classify(op, err, what)
	}
	rest, err := channelArgs(c)
	if err != nil {
		return t.classify(op, err, what)
	}
	args := append([]any{id, c.AccountID}, rest...)
	if _, err := t.exec(ctx, qCreateChannel, append(args, micros(c.CreatedAt))...); err != nil {
		return t.classify(op, err, what)
	}
	c.ID = id
	return nil
}

// UpdateChannel writes every field but ID, AccountID and CreatedAt.
// NotFound if the channel is not in c.AccountID or the new inbox does not
// exist there.
func (t *tx) UpdateChannel(ctx context.Context, c *sb.Channel) error {
	const op, what = "sqlstore.UpdateChannel", "channel"
	rest, err := channelArgs(c)
	if err != nil {
		return t.classify(op, err, what)
	}
	return t.execOne(ctx, op, what, qUpdateChannel, append([]any{c.AccountID, c.ID}, rest...)...)
}

// DeleteChannel deletes the account's channel. Its conversations and
// messages stay. NotFound if there is none.
func (t *tx) DeleteChannel(ctx context.Context, accountID, id string) error {
	return t.execOne(ctx, "sqlstore.DeleteChannel", "channel", qDeleteChannel, accountID, id)
}

// Channel returns the account's channel with id; NotFound otherwise.
func (t *tx) Channel(ctx context.Context, accountID, id string) (*sb.Channel, error) {
	return one(ctx, t, "sqlstore.Channel", "channel", scanChannel, qChannel, accountID, id)
}

// ChannelByID returns the channel with id in any account, for public entry
// points that carry only its id; NotFound otherwise.
func (t *tx) ChannelByID(ctx context.Context, id string) (*sb.Channel, error) {
	return one(ctx, t, "sqlstore.ChannelByID", "channel", scanChannel, qChannelByID, id)
}

// Channels lists the account's channels, oldest first; a non-empty inboxID
// keeps those of that inbox.
func (t *tx) Channels(ctx context.Context, accountID, inboxID string) ([]*sb.Channel, error) {
	const op, what = "sqlstore.Channels", "channels"
	if inboxID != "" {
		return list(ctx, t, op, what, scanChannel, qChannelsOfInbox, accountID, inboxID)
	}
	return list(ctx, t, op, what, scanChannel, qChannels, accountID)
}

func scanChannel(r scanner) (*sb.Channel, error) {
	var c sb.Channel
	var kind, config, routing, tickets string
	var created int64
	if err := r.Scan(&c.ID, &c.AccountID, &c.InboxID, &kind, &c.Name, &config, &routing, &tickets, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(routing), &c.Routing); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(tickets), &c.Tickets); err != nil {
		return nil, err
	}
	c.Kind, c.Config, c.CreatedAt = sb.ChannelKind(kind), fromRawText(config), fromMicros(created)
	return &c, nil
}
