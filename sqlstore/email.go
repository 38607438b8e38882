package sqlstore

import (
	"context"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
)

var (
	qDeleteChannelAddresses = newQuery("delete_channel_addresses",
		`DELETE FROM channel_addresses WHERE account_id = $1 AND channel_id = $2`)
	qInsertChannelAddress = newQuery("insert_channel_address",
		`INSERT INTO channel_addresses (address, account_id, channel_id) VALUES ($1, $2, $3)`)
	qChannelByAddress = newQuery("channel_by_address", `SELECT `+prefixed("c.", channelColumns)+`
		FROM channel_addresses a JOIN channels c ON c.account_id = a.account_id AND c.id = a.channel_id
		WHERE a.address = $1`)
	qSMTPSettings = newQuery("smtp_settings", `SELECT account_id, host, port, username, password, tls,
		from_address, updated_at FROM smtp_settings WHERE account_id = $1`)
	qSetSMTPSettings = newQuery("set_smtp_settings", `INSERT INTO smtp_settings (account_id, host, port,
		username, password, tls, from_address, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (account_id) DO UPDATE SET host = excluded.host, port = excluded.port,
		username = excluded.username, password = excluded.password, tls = excluded.tls,
		from_address = excluded.from_address, updated_at = excluded.updated_at`)
)

// SetChannelAddresses replaces the channel's addresses, stored
// lower-case. Conflict if another channel has one; NotFound if the
// channel is not in the account.
func (t *tx) SetChannelAddresses(ctx context.Context, accountID, channelID string, addrs []string) error {
	const op = "sqlstore.SetChannelAddresses"
	if _, err := t.Channel(ctx, accountID, channelID); err != nil {
		return err
	}
	if _, err := t.exec(ctx, qDeleteChannelAddresses, accountID, channelID); err != nil {
		return t.classify(op, err, "channel address")
	}
	for _, a := range addrs {
		if _, err := t.exec(ctx, qInsertChannelAddress, strings.ToLower(a), accountID, channelID); err != nil {
			return t.classify(op, err, "channel with this email address")
		}
	}
	return nil
}

// ChannelByAddress returns the channel receiving mail at address, in any
// account; NotFound if none.
func (t *tx) ChannelByAddress(ctx context.Context, address string) (*sb.Channel, error) {
	return one(ctx, t, "sqlstore.ChannelByAddress", "channel with this address", scanChannel, qChannelByAddress, strings.ToLower(address))
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
