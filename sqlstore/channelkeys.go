package sqlstore

import (
	"context"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
)

var (
	qDeleteChannelKeys = newQuery("delete_channel_keys",
		`DELETE FROM channel_keys WHERE account_id = $1 AND channel_id = $2`)
	// The SELECT makes sure the channel is the account's: no row, no key.
	qAddChannelKey = newQuery("add_channel_key", `INSERT INTO channel_keys (key, account_id, channel_id)
		SELECT $3, account_id, id FROM channels WHERE account_id = $1 AND id = $2`)
	qChannelByKey = newQuery("channel_by_key", `SELECT `+prefixed("c.", channelColumns)+`
		FROM channel_keys k JOIN channels c ON c.id = k.channel_id WHERE k.key = $1`)
	qConsent = newQuery("consent", `SELECT account_id, channel_id, subject, status, held, updated_at
		FROM channel_consents WHERE account_id = $1 AND channel_id = $2 AND subject = $3`)
	qPutConsent = newQuery("put_consent", `INSERT INTO channel_consents
		(account_id, channel_id, subject, status, held, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (channel_id, subject) DO UPDATE SET status = excluded.status,
			held = excluded.held, updated_at = excluded.updated_at
		WHERE channel_consents.account_id = excluded.account_id`)
)

// SetChannelKeys replaces the keys of the account's channel. Conflict if
// another channel holds one; NotFound if the channel is not the account's.
func (t *tx) SetChannelKeys(ctx context.Context, accountID, channelID string, keys []string) error {
	const op, what = "sqlstore.SetChannelKeys", "channel"
	if _, err := t.exec(ctx, qDeleteChannelKeys, accountID, channelID); err != nil {
		return t.classify(op, err, what)
	}
	for _, k := range keys {
		res, err := t.exec(ctx, qAddChannelKey, accountID, channelID, k)
		if err != nil {
			return t.classifyConflict(op, err, what, "channel key "+k)
		}
		if n, err := res.RowsAffected(); err != nil {
			return t.classify(op, err, what)
		} else if n == 0 {
			return notFound(op, what)
		}
	}
	return nil
}

// ChannelByKey returns the channel holding key in any account.
func (t *tx) ChannelByKey(ctx context.Context, key string) (*sb.Channel, error) {
	return one(ctx, t, "sqlstore.ChannelByKey", "channel", scanChannel, qChannelByKey, key)
}

// Consent returns a sender's consent on the account's channel.
func (t *tx) Consent(ctx context.Context, accountID, channelID, subject string) (*sb.Consent, error) {
	return one(ctx, t, "sqlstore.Consent", "consent", scanConsent, qConsent, accountID, channelID, subject)
}

// PutConsent creates or replaces c. NotFound if the channel does not
// exist (or the row belongs to another account).
func (t *tx) PutConsent(ctx context.Context, c *sb.Consent) error {
	const op, what = "sqlstore.PutConsent", "channel"
	held := c.Held
	if len(held) == 0 {
		held = []byte("[]")
	}
	res, err := t.exec(ctx, qPutConsent, c.AccountID, c.ChannelID, c.Subject, c.Status, rawText(held), micros(c.UpdatedAt))
	if err != nil {
		return t.classify(op, err, what)
	}
	if n, err := res.RowsAffected(); err != nil {
		return t.classify(op, err, what)
	} else if n == 0 {
		return notFound(op, what)
	}
	return nil
}

func scanConsent(r scanner) (*sb.Consent, error) {
	var c sb.Consent
	var held string
	var updated int64
	if err := r.Scan(&c.AccountID, &c.ChannelID, &c.Subject, &c.Status, &held, &updated); err != nil {
		return nil, err
	}
	c.Held, c.UpdatedAt = fromRawText(held), fromMicros(updated)
	return &c, nil
}

// prefixed qualifies each of a comma-separated column list with p ("c.").
func prefixed(p, columns string) string {
	parts := strings.Split(columns, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
