// Package calling is the entry point of calling channels: a telephony
// provider (or a small adapter in front of one) posts call events to
// POST /webhooks/calling/{channel_id}, signed with the channel's shared
// secret, and each call becomes (or continues) a conversation with the
// caller's contact (R-O2). See docs/channels.md.
package calling

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/channels/internal/hook"
)

// SignatureHeader carries "sha256=<hex HMAC-SHA256 of the raw body with
// the channel's webhook_secret>".
const SignatureHeader = "X-Switchboard-Signature"

// Call statuses.
const (
	Ringing   = "ringing"
	Answered  = "answered"
	Completed = "completed"
	Missed    = "missed"
)

var statuses = []string{Ringing, Answered, Completed, Missed}

// ChannelConfig is a calling channel's config.
type ChannelConfig struct {
	// WebhookSecret signs the provider's calls (write-only; at least 16
	// characters). Without it every call is refused.
	WebhookSecret string `json:"webhook_secret"`
	Number        string `json:"number,omitempty"` // the line's number, for people
}

// Event is what the provider posts.
type Event struct {
	From         string `json:"from"`
	To           string `json:"to"`
	CallID       string `json:"call_id"`
	Status       string `json:"status"`
	RecordingURL string `json:"recording_url,omitempty"`
	Transcript   string `json:"transcript,omitempty"`
	Duration     int    `json:"duration,omitempty"` // seconds
}

// ParseEvent decodes and checks a call event.
func ParseEvent(body []byte) (*Event, error) {
	const op = "calling.ParseEvent"
	var e Event // keys other providers add (direction, price …) are ignored
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, sb.E(op, sb.Invalid, "bad_payload", "the body is not a call event: %v", err)
	}
	e.CallID, e.Status = strings.TrimSpace(e.CallID), strings.TrimSpace(e.Status)
	switch {
	case hook.Phone(e.From) == "":
		return nil, sb.Invalidf(op, "from", "from must be the caller's phone number")
	case e.CallID == "" || len(e.CallID) > 200:
		return nil, sb.Invalidf(op, "call_id", "call_id is required (at most 200 characters)")
	case !validStatus(e.Status):
		return nil, sb.Invalidf(op, "status", "status must be ringing, answered, completed or missed")
	case e.Duration < 0:
		return nil, sb.Invalidf(op, "duration", "duration must be seconds, not negative")
	case len(e.Transcript) > 60000 || !utf8.ValidString(e.Transcript):
		return nil, sb.Invalidf(op, "transcript", "transcript must be UTF-8 text of at most 60000 bytes")
	}
	if e.RecordingURL != "" {
		if u, err := url.Parse(e.RecordingURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, sb.Invalidf(op, "recording_url", "recording_url must be an http(s) URL")
		}
	}
	return &e, nil
}

func validStatus(s string) bool {
	for _, v := range statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Body is the thread text of an event.
func (e *Event) Body() string {
	from := hook.Phone(e.From)
	var b strings.Builder
	switch e.Status {
	case Ringing:
		fmt.Fprintf(&b, "Incoming call from %s", from)
	case Answered:
		b.WriteString("Call answered")
	case Completed:
		b.WriteString("Call completed")
		if e.Duration > 0 {
			fmt.Fprintf(&b, " (%s)", time.Duration(e.Duration)*time.Second)
		}
	case Missed:
		fmt.Fprintf(&b, "Missed call from %s", from)
	}
	if e.RecordingURL != "" {
		b.WriteString("\nRecording: " + e.RecordingURL)
	}
	if t := strings.TrimSpace(e.Transcript); t != "" {
		b.WriteString("\nTranscript:\n" + t)
	}
	return b.String()
}

// Options is what the entry point needs. App is required.
type Options struct {
	App    *app.Service
	Logger *slog.Logger
}

// Calling is the entry point.
type Calling struct {
	app *app.Service
	log *slog.Logger
}

// New returns the entry point and registers the calling kind's config
// check. Call it before App.Start.
func New(o Options) *Calling {
	c := &Calling{app: o.App, log: o.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	o.App.RegisterChannelKind(sb.KindCalling, app.ChannelKindHooks{Check: checkConfig})
	return c
}

func checkConfig(ch *sb.Channel) ([]string, error) {
	var c ChannelConfig
	if err := json.Unmarshal(ch.Config, &c); err != nil {
		return nil, sb.Invalidf("calling.Config", "config", "the calling config is not valid: %v", err)
	}
	if c.WebhookSecret != "" && len(c.WebhookSecret) < 16 {
		return nil, sb.Invalidf("calling.Config", "config.webhook_secret", "config.webhook_secret must be at least 16 characters")
	}
	return nil, nil
}

// Mount registers the route.
func (c *Calling) Mount(mux *http.ServeMux) {
	mux.HandleFunc("POST /webhooks/calling/{channel_id}", c.event)
}

// Result is the answer to a stored event.
type Result struct {
	ConversationID string `json:"conversation_id"`
	MessageID      string `json:"message_id"`
	Duplicate      bool   `json:"duplicate"`
}

func (c *Calling) event(w http.ResponseWriter, r *http.Request) {
	const op = "calling.Event"
	ctx := r.Context()
	body, err := hook.ReadBody(w, r)
	if err != nil {
		hook.WriteError(w, err)
		return
	}
	ch, err := c.app.ChannelForEntry(ctx, r.PathValue("channel_id"))
	if err == nil && ch.Kind != sb.KindCalling {
		err = sb.E(op, sb.NotFound, "not_found", "no such calling channel")
	}
	if err != nil {
		hook.WriteError(w, err)
		return
	}
	var cfg ChannelConfig
	_ = json.Unmarshal(ch.Config, &cfg)
	if err := hook.Verify(r.Header.Get(SignatureHeader), body, cfg.WebhookSecret); err != nil {
		c.log.Warn("calling webhook refused", "channel_id", ch.ID, "remote", r.RemoteAddr, "reason", err, "secret_configured", cfg.WebhookSecret != "")
		if err == hook.ErrUnsigned {
			err = sb.E(op, sb.Unauthenticated, "signature_missing", "the request is not signed: send %s: sha256=<hex HMAC-SHA256 of the body with the channel's webhook_secret>", SignatureHeader)
		}
		hook.WriteError(w, err)
		return
	}
	e, err := ParseEvent(body)
	if err != nil {
		hook.WriteError(w, err)
		return
	}
	convID, err := c.callConversation(ctx, ch, e.CallID)
	if err != nil {
		hook.WriteError(w, err)
		return
	}
	meta, err := json.Marshal(map[string]any{"call": e})
	if err != nil {
		hook.WriteError(w, err)
		return
	}
	res, err := c.app.Deliver(ctx, ch.AccountID, ch.ID, app.InboundInput{
		Contact:        app.InboundContact{Phone: hook.Phone(e.From)},
		Body:           e.Body(),
		ExternalID:     e.CallID + ":" + e.Status, // a repeated event is stored once
		Meta:           meta,
		ConversationID: convID,
	})
	if err != nil {
		hook.WriteError(w, err)
		return
	}
	hook.WriteJSON(w, http.StatusOK, Result{ConversationID: res.Conversation.ID, MessageID: res.Message.ID, Duplicate: res.Duplicate})
}

// callConversation finds the conversation an earlier event of the same
// call went to, so that all of a call's events share one thread even if
// it was closed in between ("" if this is the call's first event).
func (c *Calling) callConversation(ctx context.Context, ch *sb.Channel, callID string) (string, error) {
	keys := make([]sb.ExternalKey, len(statuses))
	for i, s := range statuses {
		keys[i] = sb.ExternalKey{ChannelID: ch.ID, ExternalID: callID + ":" + s}
	}
	var id string
	err := c.app.View(ctx, func(tx sb.Tx) error {
		ms, err := tx.MessagesByExternalIDs(ctx, ch.AccountID, keys)
		if err != nil {
			return err
		}
		for _, m := range ms {
			id = m.ConversationID
		}
		return nil
	})
	return id, err
}
