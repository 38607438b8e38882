package email

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// Meta is what an inbound email keeps in its message's meta: the headers
// a reader needs, the sanitized HTML, the attachments' metadata (their
// bytes are in Files), and how it was taken in.
type Meta struct {
	MessageID     string       `json:"message_id,omitempty"`
	InReplyTo     []string     `json:"in_reply_to,omitempty"`
	References    []string     `json:"references,omitempty"`
	From          Address      `json:"from"`
	To            []Address    `json:"to,omitempty"`
	Cc            []Address    `json:"cc,omitempty"`
	ReplyTo       []Address    `json:"reply_to,omitempty"`
	Subject       string       `json:"subject,omitempty"`
	Date          string       `json:"date,omitempty"`
	HTML          string       `json:"html,omitempty"`
	Quoted        string       `json:"quoted,omitempty"` // the quoted original below a reply, not in the body
	Truncated     bool         `json:"truncated,omitempty"`
	Attachments   []Attachment `json:"attachments,omitempty"`
	Forwarded     *Forwarded   `json:"forwarded,omitempty"`
	ForwardedBy   string       `json:"forwarded_by,omitempty"` // the team member who forwarded it in (R-E5)
	AutoSubmitted string       `json:"auto_submitted,omitempty"`
	EnvelopeFrom  string       `json:"envelope_from,omitempty"`
	Recipient     string       `json:"recipient,omitempty"` // the RCPT TO that picked the channel
}

// Delivery is one message for one channel, as the listener received it.
type Delivery struct {
	Channel      *sb.Channel
	Recipient    string // RCPT TO, lower-case
	EnvelopeFrom string // MAIL FROM, lower-case; "" for bounces
}

// Receiver turns parsed mail into routed conversations through the core's
// one inbound use case (svc.Deliver).
type Receiver struct {
	svc   *app.Service
	files *Files
	log   *slog.Logger
}

// NewReceiver returns a Receiver storing attachments in files.
func NewReceiver(svc *app.Service, files *Files, log *slog.Logger) *Receiver {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Receiver{svc: svc, files: files, log: log}
}

// Errors of Receive that are the sender's fault; the listener answers them
// with a permanent (5xx) code.
var (
	ErrNoSender = errors.New("the message has no sender address (no From header and an empty envelope sender)")
	ErrLoop     = errors.New("the message comes from the channel's own address; refused to avoid a mail loop")
)

// Receive stores m for d's channel and returns where it landed (nil for a
// bounce that was recorded on the reply it is about). It returns after the
// message is committed.
func (r *Receiver) Receive(ctx context.Context, m *Message, d Delivery) (*app.InboundResult, error) {
	ch := d.Channel
	cfg, err := app.ParseEmailConfig(ch.Config)
	if err != nil {
		return nil, sb.Wrap("email.Receive", err)
	}
	if m.Bounce != nil {
		if done, err := r.bounce(ctx, ch, m); done || err != nil {
			return nil, err
		}
	}
	sender := m.From
	if sender.Email == "" {
		sender.Email = d.EnvelopeFrom
	}
	if sender.Email == "" {
		return nil, ErrNoSender
	}
	for _, a := range cfg.Addresses() {
		if sender.Email == a {
			return nil, ErrLoop
		}
	}
	meta := Meta{MessageID: m.MessageID, InReplyTo: m.InReplyTo, References: m.References, From: m.From, To: m.To, Cc: m.Cc,
		ReplyTo: m.ReplyTo, Subject: m.Subject, HTML: m.HTML, Quoted: m.Quoted, Truncated: m.Truncated, Attachments: m.Attachments,
		Forwarded: m.Forwarded, AutoSubmitted: m.AutoSubmitted, EnvelopeFrom: d.EnvelopeFrom, Recipient: d.Recipient}
	if !m.Date.IsZero() {
		meta.Date = m.Date.Format("2006-01-02T15:04:05Z07:00")
	}
	contact := sender
	in := app.InboundInput{Body: m.Text, ExternalID: m.ExternalID(), Subject: clip(m.Subject, 998),
		AutoReply: m.AutoSubmitted != ""} // RFC 3834: out-of-office answers, delivery reports
	forwarded := m.Forwarded != nil && m.Forwarded.From.Email != ""
	if !forwarded && len(m.Thread()) == 0 {
		in.NewThread = true // nothing to look up: fresh mail starts a conversation
	} else if err = r.svc.View(ctx, func(tx sb.Tx) error {
		if forwarded {
			// R-E5: mail a team member forwards in is logged to the
			// original sender, unless the channel says the forwarder.
			if u, err := tx.UserByEmail(ctx, sender.Email); err == nil && u.AccountID == ch.AccountID {
				meta.ForwardedBy = u.Email
				if !cfg.LogForwardedToForwarder {
					contact = m.Forwarded.From
					if m.Forwarded.Subject != "" {
						in.Subject = clip(m.Forwarded.Subject, 998)
					}
				}
			} else if err != nil && !sb.IsKind(err, sb.NotFound) {
				return err
			}
		}
		var err error
		in.ConversationID, err = r.thread(ctx, tx, ch, m)
		in.NewThread = in.ConversationID == ""
		return err
	}); err != nil {
		return nil, err
	}
	in.Contact = app.InboundContact{Email: contact.Email, Name: contact.Name}
	if err := r.storeFiles(m); err != nil {
		return nil, sb.Wrap("email.Receive", fmt.Errorf("storing attachments: %w", err))
	}
	if in.Meta, err = json.Marshal(meta); err != nil {
		return nil, sb.Wrap("email.Receive", err)
	}
	return r.svc.Deliver(ctx, ch.AccountID, ch.ID, in)
}

// thread finds the conversation m answers (R-E1): the nearest of its
// In-Reply-To and References that is one of our replies (a Message-ID we
// made from a message id) or a message received on this channel. "" when
// none is known: a subject alone ("Re: …") joins nothing.
func (r *Receiver) thread(ctx context.Context, tx sb.Tx, ch *sb.Channel, m *Message) (string, error) {
	ids := m.Thread()
	if len(ids) == 0 {
		return "", nil
	}
	keys := make([]sb.ExternalKey, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, sb.ExternalKey{ChannelID: ch.ID, ExternalID: id})
	}
	known, err := tx.MessagesByExternalIDs(ctx, ch.AccountID, keys)
	if err != nil {
		return "", err
	}
	byID := make(map[string]string, len(known))
	for _, k := range known {
		byID[k.ExternalID] = k.ConversationID
	}
	for _, id := range ids {
		if conv, ok := byID[id]; ok {
			return conv, nil
		}
		if mid, ok := OurMessageID(id); ok {
			msg, err := tx.Message(ctx, ch.AccountID, mid)
			if err == nil && msg.ChannelID == ch.ID {
				return msg.ConversationID, nil
			}
			if err != nil && !sb.IsKind(err, sb.NotFound) {
				return "", err
			}
		}
	}
	return "", nil
}

// bounce records a delivery failure on the reply it reports, if it is one
// of ours; done says that the bounce needs nothing else.
func (r *Receiver) bounce(ctx context.Context, ch *sb.Channel, m *Message) (done bool, err error) {
	b := m.Bounce
	mid, ok := OurMessageID(b.OriginalMessageID)
	if !ok || (b.Action != "" && b.Action != "failed") {
		return false, nil
	}
	reason := strings.TrimSpace(fmt.Sprintf("bounced: %s %s", b.Status, b.Diagnostic))
	if b.Recipient != "" {
		reason += " (" + b.Recipient + ")"
	}
	err = r.svc.MarkDeliveryFailed(ctx, ch.AccountID, mid, clip(reason, 1000))
	if sb.IsKind(err, sb.NotFound) {
		return false, nil // not a message of this account: keep the bounce as mail
	}
	if err == nil {
		r.log.Info("a reply bounced", "channel_id", ch.ID, "message_id", mid, "reason", reason)
	}
	return err == nil, err
}

func (r *Receiver) storeFiles(m *Message) error {
	for i := range m.Attachments {
		a := &m.Attachments[i]
		if err := r.files.Put(a.SHA256, a.data); err != nil {
			return err
		}
	}
	return nil
}

// clip cuts s to at most n bytes at a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
