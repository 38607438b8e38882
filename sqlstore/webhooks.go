package sqlstore

import (
	"context"
	"encoding/json"
	"math"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// Outbound webhooks: subscriptions and their delivery attempts (R-X8).

// Page sizes of delivery lists (the API's pages hold at most 200; callers
// ask for one more row to know whether another page follows).
const (
	deliveriesDefaultLimit = 50
	deliveriesMaxLimit     = 500
)

const webhookColumns = `id, account_id, url, events, secret, active, event_cursor, created_at, updated_at`

const deliveryColumns = `id, account_id, webhook_id, delivery_id, event_id, event_type, attempt,
	status_code, response_body, duration_ms, error, created_at`

var (
	qCreateWebhook = newQuery("create_webhook", `INSERT INTO webhooks (`+webhookColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`)
	qUpdateWebhook = newQuery("update_webhook", `UPDATE webhooks SET url = $3, events = $4, secret = $5,
		active = $6, event_cursor = $7, updated_at = $8 WHERE account_id = $1 AND id = $2`)
	qDeleteWebhook = newQuery("delete_webhook",
		`DELETE FROM webhooks WHERE account_id = $1 AND id = $2`)
	qDeleteWebhookDeliveries = newQuery("delete_webhook_deliveries",
		`DELETE FROM webhook_deliveries WHERE account_id = $1 AND webhook_id = $2`)
	qWebhook = newQuery("webhook",
		`SELECT `+webhookColumns+` FROM webhooks WHERE account_id = $1 AND id = $2`)
	qWebhooks = newQuery("webhooks",
		`SELECT `+webhookColumns+` FROM webhooks WHERE account_id = $1 ORDER BY created_at, id`)
	// "active = TRUE" is spelled as in the partial index webhooks_active.
	qWebhookAccounts = newQuery("webhook_accounts",
		`SELECT DISTINCT account_id FROM webhooks WHERE active = TRUE ORDER BY account_id`)
	qSetWebhookCursor = newQuery("set_webhook_cursor", `UPDATE webhooks
		SET event_cursor = CASE WHEN event_cursor < $3 THEN $3 ELSE event_cursor END
		WHERE account_id = $1 AND id = $2`)

	qLastEventID = newQuery("last_event_id",
		`SELECT COALESCE(MAX(id), 0) FROM events WHERE account_id = $1`)

	qCreateWebhookDelivery = newQuery("create_webhook_delivery", `INSERT INTO webhook_deliveries (`+deliveryColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`)
	qWebhookDeliveries = newQuery("webhook_deliveries", `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE account_id = $1 AND webhook_id = $2 AND (created_at, id) < ($3, $4)
		ORDER BY created_at DESC, id DESC LIMIT $5`)
)

// webhookArgs returns the columns of qUpdateWebhook from $3 on.
func webhookArgs(w *sb.Webhook) ([]any, error) {
	events := w.Events
	if events == nil {
		events = []string{}
	}
	ev, err := jsonText(events)
	if err != nil {
		return nil, err
	}
	return []any{w.URL, ev, w.Secret, w.Active, w.Cursor, micros(w.UpdatedAt)}, nil
}

// CreateWebhook inserts w, generating its ID if empty. NotFound if the
// account does not exist; Conflict if the id exists.
func (t *tx) CreateWebhook(ctx context.Context, w *sb.Webhook) error {
	const op, what = "sqlstore.CreateWebhook", "webhook"
	id, err := newID(w.ID)
	if err != nil {
		return t.classify(op, err, what)
	}
	rest, err := webhookArgs(w)
	if err != nil {
		return t.classify(op, err, what)
	}
	args := append([]any{id, w.AccountID}, rest[:5]...)
	if _, err := t.exec(ctx, qCreateWebhook, append(args, micros(w.CreatedAt), micros(w.UpdatedAt))...); err != nil {
		return t.classify(op, err, what)
	}
	w.ID = id
	return nil
}

// UpdateWebhook writes url, events, secret, active, cursor and updated-at.
// NotFound if the webhook is not in w.AccountID.
func (t *tx) UpdateWebhook(ctx context.Context, w *sb.Webhook) error {
	const op, what = "sqlstore.UpdateWebhook", "webhook"
	rest, err := webhookArgs(w)
	if err != nil {
		return t.classify(op, err, what)
	}
	return t.execOne(ctx, op, what, qUpdateWebhook, append([]any{w.AccountID, w.ID}, rest...)...)
}

// DeleteWebhook deletes the account's webhook and its delivery records.
// NotFound if there is none.
func (t *tx) DeleteWebhook(ctx context.Context, accountID, id string) error {
	const op, what = "sqlstore.DeleteWebhook", "webhook"
	if err := t.execOne(ctx, op, what, qDeleteWebhook, accountID, id); err != nil {
		return err
	}
	if _, err := t.exec(ctx, qDeleteWebhookDeliveries, accountID, id); err != nil {
		return t.classify(op, err, what)
	}
	return nil
}

// Webhook returns the account's webhook with id; NotFound otherwise.
func (t *tx) Webhook(ctx context.Context, accountID, id string) (*sb.Webhook, error) {
	return one(ctx, t, "sqlstore.Webhook", "webhook", scanWebhook, qWebhook, accountID, id)
}

// Webhooks lists the account's webhooks, oldest first.
func (t *tx) Webhooks(ctx context.Context, accountID string) ([]*sb.Webhook, error) {
	return list(ctx, t, "sqlstore.Webhooks", "webhooks", scanWebhook, qWebhooks, accountID)
}

// WebhookAccounts lists the ids of the accounts with an active webhook.
func (t *tx) WebhookAccounts(ctx context.Context) ([]string, error) {
	const op, what = "sqlstore.WebhookAccounts", "webhooks"
	rows, err := t.query(ctx, qWebhookAccounts)
	if err != nil {
		return nil, t.classify(op, err, what)
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, t.classify(op, err, what)
		}
		ids = append(ids, id)
	}
	return ids, t.classify(op, rows.Err(), what)
}

// SetWebhookCursor moves the webhook's cursor forward to cursor (never
// backwards). NotFound if the webhook is not in the account.
func (t *tx) SetWebhookCursor(ctx context.Context, accountID, id string, cursor int64) error {
	return t.execOne(ctx, "sqlstore.SetWebhookCursor", "webhook", qSetWebhookCursor, accountID, id, cursor)
}

func scanWebhook(r scanner) (*sb.Webhook, error) {
	var w sb.Webhook
	var events string
	var created, updated int64
	if err := r.Scan(&w.ID, &w.AccountID, &w.URL, &events, &w.Secret, &w.Active, &w.Cursor, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
		return nil, err
	}
	w.CreatedAt, w.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &w, nil
}

// LastEventID returns the id of the account's newest event, 0 if it has
// none.
func (t *tx) LastEventID(ctx context.Context, accountID string) (int64, error) {
	var id int64
	if err := t.queryRow(ctx, qLastEventID, accountID).Scan(&id); err != nil {
		return 0, t.classify("sqlstore.LastEventID", err, "event")
	}
	return id, nil
}

// Event returns the account's event with id; NotFound otherwise.
func (t *tx) Event(ctx context.Context, accountID string, id int64) (*sb.Event, error) {
	return one(ctx, t, "sqlstore.Event", "event", scanEvent, qEvent, accountID, id)
}

// CreateWebhookDelivery records d, generating its ID if empty.
func (t *tx) CreateWebhookDelivery(ctx context.Context, d *sb.WebhookDelivery) error {
	const op, what = "sqlstore.CreateWebhookDelivery", "webhook delivery"
	id, err := newID(d.ID)
	if err != nil {
		return t.classify(op, err, what)
	}
	if _, err := t.exec(ctx, qCreateWebhookDelivery, id, d.AccountID, d.WebhookID, d.DeliveryID, d.EventID, d.EventType,
		d.Attempt, d.StatusCode, d.ResponseBody, d.DurationMS, d.Error, micros(d.CreatedAt)); err != nil {
		return t.classify(op, err, what)
	}
	d.ID = id
	return nil
}

// WebhookDeliveries lists the webhook's delivery attempts, newest first
// (ties by id, descending), after the cursor (afterCreated, afterID) when
// either is set. limit <= 0 means 50; at most 500.
func (t *tx) WebhookDeliveries(ctx context.Context, accountID, webhookID string, afterCreated time.Time, afterID string, n int) ([]*sb.WebhookDelivery, error) {
	before := int64(math.MaxInt64)
	if !afterCreated.IsZero() || afterID != "" {
		before = micros(afterCreated)
	}
	return list(ctx, t, "sqlstore.WebhookDeliveries", "webhook deliveries", scanDelivery, qWebhookDeliveries,
		accountID, webhookID, before, afterID, limit(n, deliveriesDefaultLimit, deliveriesMaxLimit))
}

func scanDelivery(r scanner) (*sb.WebhookDelivery, error) {
	var d sb.WebhookDelivery
	var created int64
	if err := r.Scan(&d.ID, &d.AccountID, &d.WebhookID, &d.DeliveryID, &d.EventID, &d.EventType, &d.Attempt,
		&d.StatusCode, &d.ResponseBody, &d.DurationMS, &d.Error, &created); err != nil {
		return nil, err
	}
	d.CreatedAt = fromMicros(created)
	return &d, nil
}
