package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// Outbound webhooks (R-X8): an account's subscriptions to some of its
// events. Events reach the subscriptions through the account's event log
// (webhookfeed.go): after commit, each matching event becomes one durable
// job per subscription (JobWebhook), which the webhooks package delivers,
// signed, retrying with backoff, and records here.

// JobWebhook is the job kind of one event's delivery to one subscription.
// Its payload is a WebhookJob.
const JobWebhook = "webhook.deliver"

// WebhookJob is JobWebhook's payload.
type WebhookJob struct {
	WebhookID string `json:"webhook_id"`
	EventID   int64  `json:"event_id"`
}

// WebhookEvents are the event types a subscription may choose.
var WebhookEvents = []string{
	sb.EventConversationCreated,
	sb.EventConversationAssigned,
	sb.EventMessageCreated,
	sb.EventConversationStatus,
	sb.EventTicketCreated,
}

const maxWebhookURL = 2048

// WebhookInput creates a subscription. Active defaults to true.
type WebhookInput struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Active *bool    `json:"active,omitempty"`
}

// WebhookPatch changes the fields that are set. RotateSecret replaces the
// signing secret; the new one is shown in the answer, once.
type WebhookPatch struct {
	URL          *string   `json:"url,omitempty"`
	Events       *[]string `json:"events,omitempty"`
	Active       *bool     `json:"active,omitempty"`
	RotateSecret bool      `json:"rotate_secret,omitempty"`
}

// WebhookView is a subscription as the API shows it. Secret is only set
// when it was just made (creation, rotation): it is never shown again.
type WebhookView struct {
	*sb.Webhook
	Secret string `json:"secret,omitempty"`
}

// WebhookCall is one delivery attempt, ready to send: the body is the
// payload {id, type, created_at, account_id, data}.
type WebhookCall struct {
	Webhook *sb.Webhook
	Event   *sb.Event
	// DeliveryID is the same on every attempt of this event to this
	// subscription (the job's id), for receivers to de-duplicate.
	DeliveryID string
	Attempt    int
	Body       []byte
}

// webhookPayload is the body of a delivery.
type webhookPayload struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"created_at"`
	AccountID string          `json:"account_id"`
	Data      json.RawMessage `json:"data"`
}

// SetWebhookURLCheck installs the delivery adapter's extra check of
// subscription URLs (e.g. no private addresses). Call it before Start.
func (s *Service) SetWebhookURLCheck(check func(u *url.URL) error) {
	s.webhooks.mu.Lock()
	defer s.webhooks.mu.Unlock()
	s.webhooks.urlCheck = check
}

// checkWebhookURL refuses what is not an absolute http(s) URL, and what
// the adapter's check refuses.
func (s *Service) checkWebhookURL(op, raw string) error {
	u, err := url.Parse(raw)
	switch {
	case len(raw) > maxWebhookURL:
		return sb.Invalidf(op, "url", "url is longer than %d characters", maxWebhookURL)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "":
		return sb.Invalidf(op, "url", "url must be an absolute http:// or https:// URL")
	case u.User != nil:
		return sb.Invalidf(op, "url", "url must not hold credentials; receivers authenticate deliveries by their signature")
	}
	s.webhooks.mu.Lock()
	check := s.webhooks.urlCheck
	s.webhooks.mu.Unlock()
	if check != nil {
		if err := check(u); err != nil {
			return sb.Invalidf(op, "url", "%s", err.Error())
		}
	}
	return nil
}

func checkWebhookEvents(op string, events []string) ([]string, error) {
	if len(events) == 0 {
		return nil, sb.Invalidf(op, "events", "choose at least one event: %s", strings.Join(WebhookEvents, ", "))
	}
	out := []string{}
	for _, e := range events {
		if !slices.Contains(WebhookEvents, e) {
			return nil, sb.Invalidf(op, "events", "unknown event %q: choose from %s", e, strings.Join(WebhookEvents, ", "))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// newWebhookSecret returns a fresh signing secret.
func newWebhookSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "whsec_" + hex.EncodeToString(b), nil
}

// ListWebhooks lists the account's subscriptions, oldest first. Admins only.
func (s *Service) ListWebhooks(ctx context.Context, a Actor) ([]*WebhookView, error) {
	const op = "app.ListWebhooks"
	if err := requireWebhookAdmin(op, a); err != nil {
		return nil, err
	}
	var out []*WebhookView
	err := s.store.View(ctx, func(tx sb.Tx) error {
		ws, err := tx.Webhooks(ctx, a.AccountID)
		for _, w := range ws {
			out = append(out, &WebhookView{Webhook: w})
		}
		return err
	})
	return out, sb.Wrap(op, err)
}

// GetWebhook returns one subscription. Admins only.
func (s *Service) GetWebhook(ctx context.Context, a Actor, id string) (*WebhookView, error) {
	const op = "app.GetWebhook"
	if err := requireWebhookAdmin(op, a); err != nil {
		return nil, err
	}
	var w *sb.Webhook
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		w, err = tx.Webhook(ctx, a.AccountID, id)
		return err
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return &WebhookView{Webhook: w}, nil
}

// CreateWebhook subscribes url to events from now on (earlier events are
// not sent). The answer holds the signing secret, shown this once. Admins
// only.
func (s *Service) CreateWebhook(ctx context.Context, a Actor, in WebhookInput) (*WebhookView, error) {
	const op = "app.CreateWebhook"
	if err := requireWebhookAdmin(op, a); err != nil {
		return nil, err
	}
	in.URL = strings.TrimSpace(in.URL)
	if err := s.checkWebhookURL(op, in.URL); err != nil {
		return nil, err
	}
	events, err := checkWebhookEvents(op, in.Events)
	if err != nil {
		return nil, err
	}
	secret, err := newWebhookSecret()
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	now := s.Now()
	w := &sb.Webhook{ID: s.newID(), AccountID: a.AccountID, URL: in.URL, Events: events, Secret: secret,
		Active: in.Active == nil || *in.Active, CreatedAt: now, UpdatedAt: now}
	err = s.store.Update(ctx, a.AccountID, func(tx sb.Tx) error {
		var err error
		if w.Cursor, err = tx.LastEventID(ctx, a.AccountID); err != nil {
			return err
		}
		return tx.CreateWebhook(ctx, w)
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	s.webhooks.watch(a.AccountID)
	return &WebhookView{Webhook: w, Secret: secret}, nil
}

// UpdateWebhook changes a subscription. A paused subscription that is
// switched on again starts from the current event: what happened while it
// was paused is not sent. Admins only.
func (s *Service) UpdateWebhook(ctx context.Context, a Actor, id string, p WebhookPatch) (*WebhookView, error) {
	const op = "app.UpdateWebhook"
	if err := requireWebhookAdmin(op, a); err != nil {
		return nil, err
	}
	if p.URL != nil {
		*p.URL = strings.TrimSpace(*p.URL)
		if err := s.checkWebhookURL(op, *p.URL); err != nil {
			return nil, err
		}
	}
	var events []string
	if p.Events != nil {
		var err error
		if events, err = checkWebhookEvents(op, *p.Events); err != nil {
			return nil, err
		}
	}
	view := &WebhookView{}
	err := s.store.Update(ctx, a.AccountID, func(tx sb.Tx) error {
		w, err := tx.Webhook(ctx, a.AccountID, id)
		if err != nil {
			return err
		}
		if p.URL != nil {
			w.URL = *p.URL
		}
		if events != nil {
			w.Events = events
		}
		if p.Active != nil {
			if *p.Active && !w.Active {
				if w.Cursor, err = tx.LastEventID(ctx, a.AccountID); err != nil {
					return err
				}
			}
			w.Active = *p.Active
		}
		if p.RotateSecret {
			if view.Secret, err = newWebhookSecret(); err != nil {
				return err
			}
			w.Secret = view.Secret
		}
		w.UpdatedAt = s.Now()
		view.Webhook = w
		return tx.UpdateWebhook(ctx, w)
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	s.webhooks.watch(a.AccountID)
	return view, nil
}

// DeleteWebhook removes a subscription and its delivery records; its
// deliveries still queued are dropped when they come up. Admins only.
func (s *Service) DeleteWebhook(ctx context.Context, a Actor, id string) error {
	const op = "app.DeleteWebhook"
	if err := requireWebhookAdmin(op, a); err != nil {
		return err
	}
	err := s.store.Update(ctx, a.AccountID, func(tx sb.Tx) error { return tx.DeleteWebhook(ctx, a.AccountID, id) })
	return sb.Wrap(op, err)
}

// WebhookDeliveries lists a subscription's delivery attempts, newest
// first, with the receiver's answers. Admins only.
func (s *Service) WebhookDeliveries(ctx context.Context, a Actor, id, cursor string, limit int) (*Page[*sb.WebhookDelivery], error) {
	const op = "app.WebhookDeliveries"
	if err := requireWebhookAdmin(op, a); err != nil {
		return nil, err
	}
	var after time.Time
	var afterID string
	if cursor != "" {
		var ok bool
		if after, afterID, ok = decodeCursor(cursor); !ok {
			return nil, sb.Invalidf(op, "cursor", "cursor is not one this server gave out")
		}
	}
	n := clampLimit(limit)
	var ds []*sb.WebhookDelivery
	err := s.store.View(ctx, func(tx sb.Tx) error {
		if _, err := tx.Webhook(ctx, a.AccountID, id); err != nil {
			return err
		}
		var err error
		ds, err = tx.WebhookDeliveries(ctx, a.AccountID, id, after, afterID, n+1)
		return err
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	p := &Page[*sb.WebhookDelivery]{Items: ds}
	if len(ds) > n {
		p.Items = ds[:n]
		last := ds[n-1]
		p.NextCursor = encodeCursor(last.CreatedAt, last.ID)
	}
	return p, nil
}

// PrepareWebhookCall loads what one attempt of a JobWebhook job sends. It
// returns nil (and no error) when there is nothing to send any more: the
// subscription was deleted, paused or no longer wants this event. A
// malformed job is a Permanent error.
func (s *Service) PrepareWebhookCall(ctx context.Context, j *sb.Job) (*WebhookCall, error) {
	const op = "app.PrepareWebhookCall"
	var p WebhookJob
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.WebhookID == "" {
		return nil, Permanent(fmt.Errorf("%s: malformed payload %s", op, j.Payload))
	}
	var call *WebhookCall
	err := s.store.View(ctx, func(tx sb.Tx) error {
		w, err := tx.Webhook(ctx, j.AccountID, p.WebhookID)
		if sb.IsKind(err, sb.NotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		e, err := tx.Event(ctx, j.AccountID, p.EventID)
		if err != nil {
			return err
		}
		if !w.Active || !slices.Contains(w.Events, e.Type) {
			return nil
		}
		data := e.Data
		if len(data) == 0 {
			data = json.RawMessage(`{}`)
		}
		body, err := json.Marshal(webhookPayload{ID: strconv.FormatInt(e.ID, 10), Type: e.Type, CreatedAt: e.CreatedAt, AccountID: e.AccountID, Data: data})
		if err != nil {
			return err
		}
		call = &WebhookCall{Webhook: w, Event: e, DeliveryID: j.ID, Attempt: j.Attempts, Body: body}
		return nil
	})
	if sb.IsKind(err, sb.NotFound) {
		return nil, Permanent(sb.Wrap(op, err)) // the event is gone
	}
	return call, sb.Wrap(op, err)
}

// RecordWebhookDelivery stores the outcome of one attempt.
func (s *Service) RecordWebhookDelivery(ctx context.Context, d *sb.WebhookDelivery) error {
	if d.ID == "" {
		d.ID = s.newID()
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = s.Now()
	}
	err := s.store.Update(ctx, d.AccountID, func(tx sb.Tx) error { return tx.CreateWebhookDelivery(ctx, d) })
	return sb.Wrap("app.RecordWebhookDelivery", err)
}
