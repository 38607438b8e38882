package switchboard

import (
	"context"
	"time"
)

// TLS modes of an outbound SMTP relay.
const (
	SMTPTLSNone     = "none"     // plain SMTP (a relay on localhost or a trusted network)
	SMTPTLSStartTLS = "starttls" // STARTTLS required (port 587)
	SMTPTLSImplicit = "tls"      // TLS from the first byte (port 465)
)

// SMTPSettings is an account's outbound SMTP relay (R-E3): every email the
// account sends (replies, owner notifications, transcripts) goes through
// it. Password is never shown by the API.
type SMTPSettings struct {
	AccountID   string    `json:"-"`
	Host        string    `json:"host"`
	Port        int       `json:"port"`
	Username    string    `json:"username"`
	Password    string    `json:"-"`
	TLS         string    `json:"tls"`
	FromAddress string    `json:"from_address"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// EmailTx is the email channel's part of a transaction.
type EmailTx interface {
	// SetChannelAddresses replaces the addresses (lower-case) at which the
	// account's channel receives mail. Addresses are unique in the whole
	// installation: Conflict if another channel, of any account, has one
	// of them (then the transaction is doomed). NotFound if the channel
	// does not exist in the account. Deleting the channel deletes them.
	SetChannelAddresses(ctx context.Context, accountID, channelID string, addrs []string) error
	// ChannelByAddress finds the channel, in any account, that receives
	// mail at address (lower-case); NotFound if none does.
	ChannelByAddress(ctx context.Context, address string) (*Channel, error)
	// SMTPSettings returns the account's relay; NotFound if none is set.
	SMTPSettings(ctx context.Context, accountID string) (*SMTPSettings, error)
	// SetSMTPSettings creates or replaces the account's relay. NotFound if
	// the account does not exist.
	SetSMTPSettings(ctx context.Context, s *SMTPSettings) error
}
