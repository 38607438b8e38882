package switchboard

import (
	"context"
	"encoding/json"
	"time"
)

// Consent statuses of a Messenger sender (R-F2, explicit consent).
const (
	ConsentPending  = "pending"
	ConsentAccepted = "accepted"
	ConsentDeclined = "declined"
)

// Consent is one sender's GDPR consent on one channel, with the messages
// held until they accept (R-F2).
type Consent struct {
	AccountID string
	ChannelID string
	Subject   string // the sender's platform id (a Messenger PSID)
	Status    string // ConsentPending, ConsentAccepted or ConsentDeclined
	// Held is a JSON array of the messages received before the sender
	// accepted; the channel package defines its elements.
	Held      json.RawMessage
	UpdatedAt time.Time
}

// ChannelKeysTx is what the platform entry points (Messenger, WhatsApp)
// store beside the channels: the platform identifiers a channel claims in
// the whole installation (R-F1: a page belongs to at most one channel, so
// to at most one account) and explicit consents (R-F2).
type ChannelKeysTx interface {
	// SetChannelKeys replaces the keys the account's channel claims (none
	// for an empty keys). Conflict if another channel holds one of them;
	// NotFound if the channel is not in the account. Keys go when their
	// channel is deleted.
	SetChannelKeys(ctx context.Context, accountID, channelID string, keys []string) error
	// ChannelByKey returns the channel holding key, in any account;
	// NotFound if none does.
	ChannelByKey(ctx context.Context, key string) (*Channel, error)
	// Consent returns a sender's consent on the account's channel;
	// NotFound if none is recorded.
	Consent(ctx context.Context, accountID, channelID, subject string) (*Consent, error)
	// PutConsent creates or replaces c.
	PutConsent(ctx context.Context, c *Consent) error
}
