package app

import (
	"context"
	"encoding/json"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// Job kinds the core enqueues; the channel packages register their
// handlers.
const (
	// JobMail sends an OutMail (owner notifications, chat transcripts).
	JobMail = "mail.send"
	// JobNotifyOwner tells a contact's owner by email that a conversation
	// went to them while they were away (R-A8). Payload NotifyOwner.
	JobNotifyOwner = "notify.owner"
)

// EventMessageDelivery is an outgoing message's delivery state changing.
const EventMessageDelivery = "message.delivery_changed"

// Outbound is how replies leave through a channel kind (email, Messenger,
// WhatsApp). Register it with RegisterOutbound before Start.
type Outbound struct {
	// Check, if set, runs inside the reply's transaction before anything
	// is written; an error refuses the reply (R-F3's reply window answers
	// sb.RuleViolation with the reason).
	Check func(ctx context.Context, tx sb.Tx, ch *sb.Channel, c *sb.Conversation, now time.Time) error
	// JobKind, if set, is enqueued with the reply (Key: the message id,
	// Payload: SendPayload) and the message is stored as DeliveryQueued.
	// Its handler sends the message and calls MarkDelivered or, when it
	// gives up, MarkDeliveryFailed.
	JobKind string
}

// SendPayload is the payload of an Outbound's job.
type SendPayload struct {
	MessageID      string `json:"message_id"`
	ConversationID string `json:"conversation_id"`
	ChannelID      string `json:"channel_id"`
}

// NotifyOwner is JobNotifyOwner's payload.
type NotifyOwner struct {
	ConversationID string `json:"conversation_id"`
	OwnerID        string `json:"owner_id"`
}

// OutMail is an email the product sends of its own accord.
type OutMail struct {
	// ChannelID is the email channel whose address and settings send it;
	// empty means the account's default.
	ChannelID string            `json:"channel_id,omitempty"`
	To        []string          `json:"to"`
	Subject   string            `json:"subject"`
	Text      string            `json:"text"`
	HTML      string            `json:"html,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
}

// RegisterOutbound sets how replies leave through channels of kind k.
// Call it before Start.
func (s *Service) RegisterOutbound(k sb.ChannelKind, o Outbound) {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	s.outbound[k] = o
}

func (s *Service) outboundFor(k sb.ChannelKind) (Outbound, bool) {
	s.jobs.mu.RLock()
	defer s.jobs.mu.RUnlock()
	o, ok := s.outbound[k]
	return o, ok
}

// EnqueueMail queues m to be sent by the JobMail handler, inside tx.
func (s *Service) EnqueueMail(ctx context.Context, tx sb.Tx, accountID string, m OutMail) error {
	payload, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.Enqueue(ctx, tx, &sb.Job{AccountID: accountID, Kind: JobMail, Payload: payload})
}

// Outgoing is everything a channel needs to send one message.
type Outgoing struct {
	Account      *sb.Account
	Channel      *sb.Channel
	Conversation *sb.Conversation
	Contact      *sb.Contact
	Message      *sb.Message
	Author       *sb.User // nil for messages without an author
	// Thread is the conversation's messages, oldest first (this one too).
	Thread []*sb.Message
}

// Outgoing loads what sending message messageID needs.
func (s *Service) Outgoing(ctx context.Context, accountID, messageID string) (*Outgoing, error) {
	const op = "app.Outgoing"
	var o Outgoing
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		if o.Message, err = tx.Message(ctx, accountID, messageID); err != nil {
			return err
		}
		if o.Conversation, err = tx.Conversation(ctx, accountID, o.Message.ConversationID); err != nil {
			return err
		}
		if o.Channel, err = tx.Channel(ctx, accountID, o.Conversation.ChannelID); err != nil {
			return err
		}
		if o.Contact, err = tx.Contact(ctx, accountID, o.Conversation.ContactID); err != nil {
			return err
		}
		if o.Account, err = tx.Account(ctx, accountID); err != nil {
			return err
		}
		if id := o.Message.AuthorUserID; id != "" {
			if o.Author, err = tx.User(ctx, accountID, id); err != nil && !sb.IsKind(err, sb.NotFound) {
				return err
			}
		}
		o.Thread, err = tx.Messages(ctx, accountID, o.Conversation.ID)
		return err
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return &o, nil
}

// MarkDelivered records that an outgoing message left (externalID: the
// platform's id for it, if any) and tells the agents.
func (s *Service) MarkDelivered(ctx context.Context, accountID, messageID, externalID string) error {
	return s.setDelivery(ctx, "app.MarkDelivered", accountID, messageID, sb.DeliverySent, "", externalID)
}

// MarkDeliveryState records a later state reported by the platform
// (delivered, read) as the detail of a sent message.
func (s *Service) MarkDeliveryState(ctx context.Context, accountID, messageID, detail string) error {
	return s.setDelivery(ctx, "app.MarkDeliveryState", accountID, messageID, sb.DeliverySent, detail, "")
}

// MarkDeliveryFailed records that an outgoing message could not be sent,
// and why, and tells the agents.
func (s *Service) MarkDeliveryFailed(ctx context.Context, accountID, messageID, reason string) error {
	return s.setDelivery(ctx, "app.MarkDeliveryFailed", accountID, messageID, sb.DeliveryFailed, reason, "")
}

func (s *Service) setDelivery(ctx context.Context, op, accountID, messageID, state, detail, externalID string) error {
	err := s.store.Update(ctx, accountID, func(tx sb.Tx) error {
		if err := tx.SetMessageDelivery(ctx, accountID, messageID, state, detail, externalID); err != nil {
			return err
		}
		m, err := tx.Message(ctx, accountID, messageID)
		if err != nil {
			return err
		}
		c, err := tx.Conversation(ctx, accountID, m.ConversationID)
		if err != nil {
			return err
		}
		return s.event(ctx, tx, c, EventMessageDelivery, m)
	})
	return sb.Wrap(op, err)
}

// ChannelForEntry finds a channel by id for a public entry point (widget,
// form, webhook) that has only its id; NotFound if there is none.
func (s *Service) ChannelForEntry(ctx context.Context, channelID string) (*sb.Channel, error) {
	var ch *sb.Channel
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		ch, err = tx.ChannelByID(ctx, channelID)
		return err
	})
	if err != nil {
		return nil, sb.Wrap("app.ChannelForEntry", err)
	}
	return ch, nil
}
