package meta

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// messengerEvent handles one event of a connected page.
func (m *Meta) messengerEvent(ctx context.Context, ch *sb.Channel, ev *MessengerEvent) error {
	cfg, err := parseMessenger(ch.Config)
	if err != nil {
		return err
	}
	switch ev.Kind {
	case EventMessage, EventPostback:
		if cfg.Consent != ConsentExplicit {
			return m.deliverMessenger(ctx, ch, cfg, ev)
		}
		if ev.Standby && !m.consented(ctx, ch, ev.PSID) {
			return nil // another app has the thread: no prompt, nothing kept
		}
		deliver, err := m.consentGate(ctx, ch, cfg, ev)
		if err != nil {
			return err
		}
		for i := range deliver {
			if err := m.deliverMessenger(ctx, ch, cfg, &deliver[i]); err != nil {
				return err
			}
		}
		if len(deliver) > 1 || (len(deliver) == 1 && deliver[0].MID != ev.MID) {
			return m.releaseHeld(ctx, ch, ev.PSID)
		}
		return nil
	case EventDelivery:
		return m.messengerDelivery(ctx, ch, cfg, ev, DetailDelivered)
	case EventRead:
		return m.messengerDelivery(ctx, ch, cfg, ev, DetailRead)
	}
	return nil
}

// visitorToken is the contact identity of a Messenger user: page-scoped
// ids differ per page, so the page is part of it.
func visitorToken(pageID, psid string) string { return "messenger:" + pageID + ":" + psid }

// psidOf returns the PSID in a contact's visitor token for the page.
func psidOf(token, pageID string) (string, bool) {
	psid, ok := strings.CutPrefix(token, "messenger:"+pageID+":")
	return psid, ok && psid != ""
}

// deliverMessenger stores a message or postback as an inbound message
// (de-duplicated by mid) and sends the instant reply if it started a
// conversation.
func (m *Meta) deliverMessenger(ctx context.Context, ch *sb.Channel, cfg *MessengerConfig, ev *MessengerEvent) error {
	token := visitorToken(cfg.PageID, ev.PSID)
	name := m.profileName(ctx, ch, cfg, token, ev.PSID)
	meta, err := json.Marshal(map[string]any{"messenger": map[string]any{
		"kind": ev.Kind, "mid": ev.MID, "psid": ev.PSID, "page_id": cfg.PageID,
		"payload": ev.Payload, "attachments": ev.Attachments, "sent_at": ev.Time, "standby": ev.Standby,
	}})
	if err != nil {
		return err
	}
	res, err := m.app.Deliver(ctx, ch.AccountID, ch.ID, app.InboundInput{
		Contact: app.InboundContact{VisitorToken: token, Name: name}, Body: ev.Body(), ExternalID: ev.MID, Meta: meta,
	})
	if err != nil || res.Duplicate {
		return err
	}
	if !res.Conversation.CreatedAt.Equal(res.Message.CreatedAt) {
		return nil // not the first message of the conversation
	}
	text := cfg.InstantReply
	if cfg.Consent == ConsentImplicit {
		text = strings.TrimSpace(cfg.ConsentText + "\n\n" + text)
	}
	if strings.TrimSpace(text) == "" || cfg.PageAccessToken == "" || ev.Standby {
		return nil // nothing to say, or no way to say it
	}
	return m.automated(ctx, res.Conversation, JobMessengerSend, text)
}

// profileName looks up a new contact's name (first and last) through the
// Graph API; Messenger never gives an email. Failures only cost the name.
func (m *Meta) profileName(ctx context.Context, ch *sb.Channel, cfg *MessengerConfig, token, psid string) string {
	if cfg.PageAccessToken == "" || (cfg.LookupProfile != nil && !*cfg.LookupProfile) {
		return ""
	}
	known := false
	_ = m.app.View(ctx, func(tx sb.Tx) error {
		c, err := tx.ContactByVisitorToken(ctx, ch.AccountID, token)
		known = err == nil && c.Name != ""
		return nil
	})
	if known {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	p, err := m.graph.MessengerProfile(ctx, cfg.PageAccessToken, psid)
	if err != nil {
		m.log.Info("Messenger profile look-up failed; the contact stays without a name", "channel_id", ch.ID, "err", err)
		return ""
	}
	return strings.TrimSpace(p.FirstName + " " + p.LastName)
}

// automated stores an automated outgoing message (no author: the 24-hour
// window applies, never the human-agent exception) in the conversation
// and queues it for sending, in one transaction.
func (m *Meta) automated(ctx context.Context, c *sb.Conversation, jobKind, text string) error {
	return m.app.Update(ctx, c.AccountID, func(tx sb.Tx) error {
		now := m.app.Now()
		c, err := tx.Conversation(ctx, c.AccountID, c.ID)
		if err != nil {
			return err
		}
		c.LastActivityAt, c.Preview = now, preview(text)
		if err := tx.UpdateConversation(ctx, c); err != nil {
			return err
		}
		msg := &sb.Message{AccountID: c.AccountID, ConversationID: c.ID, ChannelID: c.ChannelID, Direction: sb.DirectionOut,
			Body: text, Delivery: sb.DeliveryQueued, CreatedAt: now}
		if err := tx.CreateMessage(ctx, msg); err != nil {
			return err
		}
		data, err := json.Marshal(msg)
		if err != nil {
			return err
		}
		if err := tx.AppendEvent(ctx, &sb.Event{AccountID: c.AccountID, Type: sb.EventMessageCreated, InboxID: c.InboxID,
			ConversationID: c.ID, UserID: c.AssigneeID, Data: data, CreatedAt: now}); err != nil {
			return err
		}
		payload, err := json.Marshal(map[string]string{"message_id": msg.ID, "conversation_id": c.ID, "channel_id": c.ChannelID})
		if err != nil {
			return err
		}
		return m.app.Enqueue(ctx, tx, &sb.Job{AccountID: c.AccountID, Kind: jobKind, Key: msg.ID, Payload: payload, RunAt: now})
	})
}

// Receipts: a sent message's DeliveryDetail says how far it got.
const (
	DetailDelivered = "delivered"
	DetailRead      = "read"
)

// receiptRank orders receipts; a message never goes back.
func receiptRank(detail string) int {
	switch detail {
	case DetailDelivered:
		return 1
	case DetailRead:
		return 2
	}
	return 0
}

// messengerDelivery applies a delivery or read receipt: the messages it
// names (mids), or else every sent message of the person's latest
// conversation up to the watermark.
func (m *Meta) messengerDelivery(ctx context.Context, ch *sb.Channel, cfg *MessengerConfig, ev *MessengerEvent, state string) error {
	var msgs []*sb.Message
	err := m.app.View(ctx, func(tx sb.Tx) error {
		if len(ev.Mids) > 0 {
			for _, mid := range ev.Mids {
				msg, err := tx.MessageByExternalID(ctx, ch.AccountID, ch.ID, mid)
				if sb.IsKind(err, sb.NotFound) {
					continue
				}
				if err != nil {
					return err
				}
				msgs = append(msgs, msg)
			}
			return nil
		}
		var err error
		if msgs, err = m.threadOf(ctx, tx, ch, visitorToken(cfg.PageID, ev.PSID)); err != nil {
			return err
		}
		msgs = slices.DeleteFunc(msgs, func(msg *sb.Message) bool { return ev.Watermark.IsZero() || msg.CreatedAt.After(ev.Watermark) })
		return nil
	})
	if err != nil {
		return err
	}
	return m.advance(ctx, ch.AccountID, msgs, state)
}

// threadOf returns the messages of the contact's latest conversation on
// the channel (none if there is no such contact or conversation).
func (m *Meta) threadOf(ctx context.Context, tx sb.Tx, ch *sb.Channel, token string) ([]*sb.Message, error) {
	contact, err := tx.ContactByVisitorToken(ctx, ch.AccountID, token)
	if sb.IsKind(err, sb.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	conv, err := tx.LatestConversation(ctx, ch.AccountID, contact.ID, ch.ID)
	if sb.IsKind(err, sb.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return tx.Messages(ctx, ch.AccountID, conv.ID)
}

// advance records a receipt (delivered, read) on sent outgoing
// messages; it never moves one back and leaves queued and failed ones
// alone.
func (m *Meta) advance(ctx context.Context, accountID string, msgs []*sb.Message, state string) error {
	for _, msg := range msgs {
		if msg.Direction != sb.DirectionOut || msg.Delivery != sb.DeliverySent || receiptRank(msg.DeliveryDetail) >= receiptRank(state) {
			continue
		}
		if err := m.app.MarkDeliveryState(ctx, accountID, msg.ID, state); err != nil {
			return err
		}
	}
	return nil
}

// preview is the start of a body for conversation lists, as the app
// makes it for replies.
func preview(body string) string {
	p := strings.Join(strings.Fields(body), " ")
	if r := []rune(p); len(r) > 140 {
		p = string(r[:140]) + "…"
	}
	return p
}
