package sqlstore

import (
	"context"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
)

var (
	qSMTPSettings = newQuery("smtp_settings", `SELECT account_id, host, port, username, password, tls,
		from_address, updated_at FROM smtp_settings WHERE account_id = $1`)
	qSetSMTPSettings = newQuery("set_smtp_settings", `INSERT INTO smtp_settings (account_id, host, port,
		username, password, tls, from_address, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (account_id) DO UPDATE SET host = excluded.host, port = excluded.port,
		username = excluded.username, password = excluded.password, tls = excluded.tls,
		from_address = excluded.from_address, updated_at = excluded.updated_at`)
)

// emailKey is an email address's key among the channels' platform keys
// (channel_keys): one table keeps every "belongs to one channel of the
// whole installation" rule, Messenger pages and email addresses alike.
func emailKey(address string) string { return "email:" + strings.ToLower(address) }

// SetChannelAddresses replaces the channel's addresses (compared
// lower-case). Conflict if another channel has one; NotFound if the
// channel is not in the account.
func (t *tx) SetChannelAddresses(ctx context.Context, accountID, channelID string, addrs []string) error {
	if _, err := t.Channel(ctx, accountID, channelID); err != nil {
		return err
	}
	keys := make([]string, len(addrs))
	for i, a := range addrs {
		keys[i] = emailKey(a)
	}
	return t.SetChannelKeys(ctx, accountID, channelID, keys)
}

// ChannelByAddress returns the channel receiving mail at address, in any
// account; NotFound if none.
func (t *tx) ChannelByAddress(ctx context.Context, address string) (*sb.Channel, error) {
	return t.ChannelByKey(ctx, emailKey(address))
}

// SMTPSettings returns the account's relay; NotFound if none is set.
func (t *tx) SMTPSettings(ctx context.Context, accountID string) (*sb.SMTPSettings, error) {
	return one(ctx, t, "sqlstore.SMTPSettings", "SMTP settings", scanSMTPSettings, qSMTPSettings, accountID)
}

// SetSMTPSettings creates or replaces the account's relay; NotFound if the
// account does not exist.
func (t *tx) SetSMTPSettings(ctx context.Context, s *sb.SMTPSettings) error {
	_, err := t.exec(ctx, qSetSMTPSettings, s.AccountID, s.Host, s.Port, s.Username, s.Password, s.TLS, s.FromAddress, micros(s.UpdatedAt))
	if err != nil {
		return t.classify("sqlstore.SetSMTPSettings", err, "account")
	}
	return nil
}

func scanSMTPSettings(r scanner) (*sb.SMTPSettings, error) {
	var s sb.SMTPSettings
	var updated int64
	if err := r.Scan(&s.AccountID, &s.Host, &s.Port, &s.Username, &s.Password, &s.TLS, &s.FromAddress, &updated); err != nil {
		return nil, err
	}
	s.UpdatedAt = fromMicros(updated)
	return &s, nil
}
