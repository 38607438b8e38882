package switchboard

import (
	"context"
	"time"
)

// Webhook is an account's subscription to some of its events, delivered by
// HTTP POST to URL, signed with Secret (R-X8). Cursor is the id of the last
// event of the account's log the subscription has looked at: events after
// it are still to be queued for delivery.
type Webhook struct {
	ID        string    `json:"id"`
	AccountID string    `json:"account_id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Secret    string    `json:"-"`
	Active    bool      `json:"active"`
	Cursor    int64     `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// WebhookDelivery records one attempt to deliver one event to a webhook.
type WebhookDelivery struct {
	ID        string `json:"id"`
	AccountID string `json:"account_id"`
	WebhookID string `json:"webhook_id"`
	// DeliveryID names the delivery of one event to one webhook, the same
	// on every attempt (the Switchboard-Delivery header).
	DeliveryID string `json:"delivery_id"`
	EventID    int64  `json:"event_id"`
	EventType  string `json:"event_type"`
	Attempt    int    `json:"attempt"` // 1 for the first
	// StatusCode is the receiver's HTTP status; 0 when none came back.
	StatusCode int `json:"status_code"`
	// ResponseBody is the first KiB of the receiver's answer.
	ResponseBody string    `json:"response_body"`
	DurationMS   int64     `json:"duration_ms"`
	Error        string    `json:"error,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// WebhooksTx are the Tx methods of outbound webhooks (R-X8).
type WebhooksTx interface {
	// CreateWebhook inserts w, generating its ID if empty.
	CreateWebhook(ctx context.Context, w *Webhook) error
	// UpdateWebhook writes url, events, secret, active, cursor and
	// updated-at. NotFound.
	UpdateWebhook(ctx context.Context, w *Webhook) error
	// DeleteWebhook deletes the webhook and its deliveries. NotFound.
	DeleteWebhook(ctx context.Context, accountID, id string) error
	Webhook(ctx context.Context, accountID, id string) (*Webhook, error)
	// Webhooks lists the account's webhooks, oldest first.
	Webhooks(ctx context.Context, accountID string) ([]*Webhook, error)
	// WebhookAccounts lists the ids of the accounts with an active webhook.
	WebhookAccounts(ctx context.Context) ([]string, error)
	// SetWebhookCursor moves the webhook's cursor forward to the given
	// event id, never backwards. NotFound if there is no such webhook.
	SetWebhookCursor(ctx context.Context, accountID, id string, cursor int64) error

	// LastEventID returns the id of the account's newest event, 0 if none.
	LastEventID(ctx context.Context, accountID string) (int64, error)
	// Event returns one event of the account's log; NotFound.
	Event(ctx context.Context, accountID string, id int64) (*Event, error)

	// CreateWebhookDelivery records an attempt, generating its ID if empty.
	CreateWebhookDelivery(ctx context.Context, d *WebhookDelivery) error
	// WebhookDeliveries lists a webhook's attempts, newest first, after
	// the cursor (created-at, id) if set. Limit <= 0 means 50; at most 500.
	WebhookDeliveries(ctx context.Context, accountID, webhookID string, afterCreated time.Time, afterID string, limit int) ([]*WebhookDelivery, error)
}
