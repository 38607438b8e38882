package meta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// lastInbound returns when the contact last wrote on the conversation's
// channel: in this conversation or in their latest one there (zero if
// never).
func lastInbound(ctx context.Context, tx sb.Tx, c *sb.Conversation) (time.Time, error) {
	var last time.Time
	ids := []string{c.ID}
	if latest, err := tx.LatestConversation(ctx, c.AccountID, c.ContactID, c.ChannelID); err == nil && latest.ID != c.ID {
		ids = append(ids, latest.ID)
	} else if err != nil && !sb.IsKind(err, sb.NotFound) {
		return last, err
	}
	for _, id := range ids {
		msgs, err := tx.Messages(ctx, c.AccountID, id)
		if err != nil {
			return last, err
		}
		last = maxInbound(msgs, last)
	}
	return last, nil
}

func maxInbound(msgs []*sb.Message, last time.Time) time.Time {
	for _, m := range msgs {
		if m.Direction == sb.DirectionIn && m.CreatedAt.After(last) {
			last = m.CreatedAt
		}
	}
	return last
}

// ago says a duration for people: "3 days", "26 hours", "40 minutes".
func ago(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	default:
		return fmt.Sprintf("%d minutes", int(d/time.Minute))
	}
}

// checkMessengerReply is R-F3 for a reply written by an agent: within 24
// hours of the contact's last message it goes as a response; up to 7 days
// with the HUMAN_AGENT tag (every reply through the API has a human
// author); later it is refused, saying why.
func (m *Meta) checkMessengerReply(ctx context.Context, tx sb.Tx, ch *sb.Channel, c *sb.Conversation, now time.Time) error {
	const op = "meta.MessengerReply"
	last, err := lastInbound(ctx, tx, c)
	if err != nil {
		return err
	}
	if last.IsZero() {
		return sb.E(op, sb.RuleViolation, "outside_reply_window", "Messenger only allows answering a person who wrote to the page, and this contact never did")
	}
	if age := now.Sub(last); age > HumanAgentWindow {
		return sb.E(op, sb.RuleViolation, "outside_reply_window",
			"Messenger allows replies only within 24 hours of the contact's last message, or up to 7 days for a human agent (HUMAN_AGENT tag); the contact last wrote %s ago, so this reply cannot be sent (R-F3)", ago(age))
	}
	return nil
}

// checkWhatsAppReply is R-F4: free-form messages only within the 24-hour
// customer service window.
func (m *Meta) checkWhatsAppReply(ctx context.Context, tx sb.Tx, ch *sb.Channel, c *sb.Conversation, now time.Time) error {
	const op = "meta.WhatsAppReply"
	last, err := lastInbound(ctx, tx, c)
	if err != nil {
		return err
	}
	if last.IsZero() || now.Sub(last) > StandardWindow {
		why := "the customer never wrote to this number"
		if !last.IsZero() {
			why = "the customer last wrote " + ago(now.Sub(last)) + " ago"
		}
		return sb.E(op, sb.RuleViolation, "outside_reply_window",
			"WhatsApp allows free-form replies only within 24 hours of the customer's last message (%s); outside this window only approved message templates may be sent, which Switchboard does not send: the customer must write again first (R-F4)", why)
	}
	return nil
}

// sendPayload is the outbound job's payload.
type sendPayload = app.SendPayload

// failed records a permanent failure on the message and stops the job.
func (m *Meta) failed(ctx context.Context, accountID, messageID, reason string) error {
	if err := m.app.MarkDeliveryFailed(ctx, accountID, messageID, reason); err != nil {
		return err
	}
	return app.Permanent(errors.New(reason))
}

// sendError handles a Graph API error: permanent ones fail the message,
// others are retried by the queue.
func (m *Meta) sendError(ctx context.Context, j *sb.Job, messageID string, err error) error {
	var ge *GraphError
	if errors.As(err, &ge) && !ge.Temporary() {
		return m.failed(ctx, j.AccountID, messageID, "the platform refused the message: "+ge.Message)
	}
	if m.app.LastAttempt(j) { // a temporary failure on the last attempt fails the message
		return m.failed(ctx, j.AccountID, messageID, "the platform could not be reached after many attempts: "+err.Error())
	}
	return err
}

// chunks splits text into pieces of at most n runes (the platforms' size
// limits), preferring line breaks.
func chunks(text string, n int) []string {
	var out []string
	for utf8.RuneCountInString(text) > n {
		cut := len(string([]rune(text)[:n]))
		if i := strings.LastIndex(text[:cut], "\n"); i > cut/2 {
			cut = i + 1
		}
		out = append(out, text[:cut])
		text = text[cut:]
	}
	return append(out, text)
}

// sendMessenger sends a queued reply or automated message through the Send
// API. It decides the messaging type at send time (R-F3): RESPONSE within
// 24 hours of the contact's last message; MESSAGE_TAG HUMAN_AGENT up to 7
// days for a reply with a human author; otherwise the message fails
// (automated messages never go out after 24 hours).
func (m *Meta) sendMessenger(ctx context.Context, j *sb.Job) error {
	var p sendPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return app.Permanent(err)
	}
	o, err := m.app.Outgoing(ctx, j.AccountID, p.MessageID)
	if sb.IsKind(err, sb.NotFound) {
		return app.Permanent(err)
	}
	if err != nil {
		return err
	}
	if o.Message.Delivery != sb.DeliveryQueued {
		return nil // sent (or failed) by an earlier attempt
	}
	cfg, err := parseMessenger(o.Channel.Config)
	if err != nil {
		return m.failed(ctx, j.AccountID, p.MessageID, "the Messenger channel's config is not valid")
	}
	if cfg.PageAccessToken == "" {
		return m.failed(ctx, j.AccountID, p.MessageID, "the Messenger channel has no page access token")
	}
	psid, ok := psidOf(o.Contact.VisitorToken, cfg.PageID)
	if !ok {
		return m.failed(ctx, j.AccountID, p.MessageID, "the contact has no Messenger id for this page")
	}
	last := maxInbound(o.Thread, time.Time{})
	age := m.app.Now().Sub(last)
	req := &SendRequest{MessagingType: TypeResponse}
	switch {
	case last.IsZero():
		return m.failed(ctx, j.AccountID, p.MessageID, "the contact never wrote to the page")
	case age <= StandardWindow:
	case o.Message.AuthorUserID != "" && age <= HumanAgentWindow:
		req.MessagingType, req.Tag = TypeMessageTag, TagHumanAgent
	case o.Message.AuthorUserID == "":
		return m.failed(ctx, j.AccountID, p.MessageID, "automated messages may only be sent within 24 hours of the contact's last message (R-F3)")
	default:
		return m.failed(ctx, j.AccountID, p.MessageID, "more than 7 days passed since the contact's last message (R-F3)")
	}
	req.Recipient.ID = psid
	var mid string
	for _, part := range chunks(o.Message.Body, 2000) {
		req.Message = SendMessage{Text: part}
		if mid, err = m.graph.SendMessenger(ctx, cfg.PageAccessToken, req); err != nil {
			return m.sendError(ctx, j, p.MessageID, err)
		}
	}
	return m.app.MarkDelivered(ctx, j.AccountID, p.MessageID, mid)
}

// sendWhatsApp sends a queued reply within the 24-hour window (R-F4).
func (m *Meta) sendWhatsApp(ctx context.Context, j *sb.Job) error {
	var p sendPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return app.Permanent(err)
	}
	o, err := m.app.Outgoing(ctx, j.AccountID, p.MessageID)
	if sb.IsKind(err, sb.NotFound) {
		return app.Permanent(err)
	}
	if err != nil {
		return err
	}
	if o.Message.Delivery != sb.DeliveryQueued {
		return nil
	}
	cfg, err := parseWhatsApp(o.Channel.Config)
	if err != nil || cfg.AccessToken == "" {
		return m.failed(ctx, j.AccountID, p.MessageID, "the WhatsApp channel has no access token")
	}
	to := strings.TrimPrefix(o.Contact.Phone, "+")
	if to == "" {
		return m.failed(ctx, j.AccountID, p.MessageID, "the contact has no phone number")
	}
	last := maxInbound(o.Thread, time.Time{})
	if last.IsZero() || m.app.Now().Sub(last) > StandardWindow {
		return m.failed(ctx, j.AccountID, p.MessageID, "more than 24 hours passed since the customer's last message; only templates may be sent (R-F4)")
	}
	var wamid string
	for _, part := range chunks(o.Message.Body, 4096) {
		if wamid, err = m.graph.SendWhatsAppText(ctx, cfg.AccessToken, cfg.PhoneNumberID, to, part); err != nil {
			return m.sendError(ctx, j, p.MessageID, err)
		}
	}
	return m.app.MarkDelivered(ctx, j.AccountID, p.MessageID, wamid)
}
