package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// Live-chat signals: short-lived state a chat's two sides show each other.
// They go through the event log like every change, so that agents see
// them on the event stream of any process (R-X7) and the widget on its
// WebSocket.
const (
	// EventChatTyping: data {"from": "visitor"|"agent", "user_id"?, "typing": bool}.
	EventChatTyping = "conversation.typing"
	// EventChatRead: data {"from": "visitor"|"agent", "user_id"?, "message_id"}:
	// that side has read the thread up to and including message_id.
	EventChatRead = "conversation.read"
)

// CloseHook runs inside the transaction that closes a conversation (by a
// person or anything else), after the change is written; an error rolls
// the close back. Use it to enqueue work that must happen exactly when a
// conversation closes (a chat transcript, R-C4).
type CloseHook func(ctx context.Context, tx sb.Tx, c *sb.Conversation) error

// kindHooks are the close hooks channel adapters register before Start
// (their config checks are ChannelKindHooks).
type kindHooks struct {
	mu      sync.RWMutex
	onClose []CloseHook
}

// OnClose registers a CloseHook. Call it before Start.
func (s *Service) OnClose(h CloseHook) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.onClose = append(s.hooks.onClose, h)
}

// closed runs the close hooks for c inside its closing transaction.
func (s *Service) closed(ctx context.Context, tx sb.Tx, c *sb.Conversation) error {
	s.hooks.mu.RLock()
	hooks := slices.Clone(s.hooks.onClose)
	s.hooks.mu.RUnlock()
	for _, h := range hooks {
		if err := h(ctx, tx, c); err != nil {
			return err
		}
	}
	return nil
}

// ChatView is what a chat widget needs to show a visitor: the channel, its
// account (time zone, name), who could take a conversation now, and the
// visitor's contact and latest conversation on the channel.
type ChatView struct {
	Channel  *sb.Channel
	Account  *sb.Account
	Chatflow Chatflow
	// Staffing counts the channel's candidates for this visitor (R-V4,
	// R-A10): the rule's candidates, on the bot step if any (R-A4), with
	// access to the inbox (R-A3), the visitor's owner included (R-A8).
	Staffing routing.Staffing
	// Contact is the visitor's contact, nil for a new visitor (R-C2).
	Contact *sb.Contact
	// Conversation is the visitor's latest conversation on the channel,
	// open or closed; nil if none.
	Conversation *sb.Conversation
	// Names maps the account's user ids to their names (for the heading
	// and the authors of replies).
	Names map[string]string
	Now   time.Time
}

// ChatView loads a chat channel's view for the visitor with token (which
// may be empty: a visitor who has not written yet). NotFound when the
// channel does not exist or is not a chat channel. No authentication: the
// widget is public, and the visitor token is the visitor's credential.
func (s *Service) ChatView(ctx context.Context, channelID, token string) (*ChatView, error) {
	const op = "app.ChatView"
	v := &ChatView{Now: s.Now()}
	err := s.store.View(ctx, func(tx sb.Tx) error {
		ch, err := tx.ChannelByID(ctx, channelID)
		if err != nil || ch.Kind != sb.KindChat {
			return sb.E(op, sb.NotFound, "channel_not_found", "no such chat channel")
		}
		v.Channel = ch
		if v.Account, err = tx.Account(ctx, ch.AccountID); err != nil {
			return err
		}
		if v.Chatflow, err = chatflowOf(ch); err != nil {
			return err
		}
		if token != "" {
			if err := visitorThread(ctx, tx, v, token); err != nil {
				return err
			}
		}
		rows, err := loadRows(ctx, tx, ch.AccountID)
		if err != nil {
			return err
		}
		v.Names = make(map[string]string, len(rows.users))
		for _, u := range rows.users {
			v.Names[u.ID] = u.Name
		}
		snap := routing.NewSnapshot(v.Now, rows.users, rows.teams, rows.inboxes)
		arr := routing.Arrival{Trigger: sb.TriggerCreated, Contact: v.Contact, ContactKnown: v.Contact != nil, StepUserIDs: stepUsers(ch)}
		v.Staffing = snap.Pool(ch).Staffing(arr)
		return nil
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return v, nil
}

// visitorThread fills in the visitor's contact and latest conversation.
func visitorThread(ctx context.Context, tx sb.Tx, v *ChatView, token string) error {
	c, err := tx.ContactByVisitorToken(ctx, v.Channel.AccountID, token)
	if sb.IsKind(err, sb.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	v.Contact = c
	conv, err := tx.LatestConversation(ctx, c.AccountID, c.ID, v.Channel.ID)
	if sb.IsKind(err, sb.NotFound) {
		return nil
	}
	v.Conversation = conv
	return err
}

// VisitorMessages returns the messages of the visitor's conversation on a
// chat channel that the visitor may see (their own and the replies, never
// internal notes), oldest first, after the message afterID (all when it is
// empty or no longer in the thread). NotFound unless conversationID is the
// visitor's (token's) conversation on that channel.
func (s *Service) VisitorMessages(ctx context.Context, channelID, token, conversationID, afterID string) ([]*sb.Message, error) {
	const op = "app.VisitorMessages"
	var out []*sb.Message
	err := s.store.View(ctx, func(tx sb.Tx) error {
		conv, err := visitorConversation(ctx, tx, op, channelID, token, conversationID)
		if err != nil {
			return err
		}
		ms, err := tx.Messages(ctx, conv.AccountID, conv.ID)
		if err != nil {
			return err
		}
		start := 0
		if afterID != "" {
			if i := slices.IndexFunc(ms, func(m *sb.Message) bool { return m.ID == afterID }); i >= 0 {
				start = i + 1
			}
		}
		out = make([]*sb.Message, 0, len(ms)-start)
		for _, m := range ms[start:] {
			if m.Direction != sb.DirectionNote {
				out = append(out, m)
			}
		}
		return nil
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return out, nil
}

// visitorConversation loads conversationID and checks it is the token's
// contact's conversation on the chat channel.
func visitorConversation(ctx context.Context, tx sb.Tx, op, channelID, token, conversationID string) (*sb.Conversation, error) {
	notFound := sb.E(op, sb.NotFound, "not_found", "no such conversation for this visitor")
	ch, err := tx.ChannelByID(ctx, channelID)
	if err != nil || ch.Kind != sb.KindChat || token == "" {
		return nil, notFound
	}
	c, err := tx.ContactByVisitorToken(ctx, ch.AccountID, token)
	if err != nil {
		return nil, notFound
	}
	conv, err := tx.Conversation(ctx, ch.AccountID, conversationID)
	if err != nil || conv.ContactID != c.ID || conv.ChannelID != ch.ID {
		return nil, notFound
	}
	return conv, nil
}

// VisitorSignal records that the visitor is typing (typing=true/false) or
// has read the thread up to readID, in their conversation on a chat
// channel, as an EventChatTyping or EventChatRead event that agents see on
// the event stream. NotFound unless the conversation is the visitor's.
func (s *Service) VisitorSignal(ctx context.Context, channelID, token, conversationID string, typing *bool, readID string) error {
	const op = "app.VisitorSignal"
	var accountID string
	err := s.store.View(ctx, func(tx sb.Tx) error {
		conv, err := visitorConversation(ctx, tx, op, channelID, token, conversationID)
		if err == nil {
			accountID = conv.AccountID
		}
		return err
	})
	if err != nil {
		return sb.Wrap(op, err)
	}
	return s.signal(ctx, op, accountID, conversationID, map[string]any{"from": "visitor"}, typing, readID)
}

// AgentSignalInput is an agent's typing or read signal.
type AgentSignalInput struct {
	Typing    *bool  `json:"typing,omitempty"`
	MessageID string `json:"message_id,omitempty"`
}

// AgentSignal records that the actor is typing in, or has read, a
// conversation they can see (R-I4), for the chat widget to show.
func (s *Service) AgentSignal(ctx context.Context, a Actor, conversationID string, in AgentSignalInput) error {
	const op = "app.AgentSignal"
	if (in.Typing == nil) == (in.MessageID == "") {
		return sb.Invalidf(op, "typing", "send either typing (true or false) or message_id (read up to it)")
	}
	err := s.store.View(ctx, func(tx sb.Tx) error {
		_, _, err := visibleConversation(ctx, tx, op, a, conversationID)
		return err
	})
	if err != nil {
		return sb.Wrap(op, err)
	}
	s.touch(ctx, a)
	return s.signal(ctx, op, a.AccountID, conversationID, map[string]any{"from": "agent", "user_id": a.UserID}, in.Typing, in.MessageID)
}

// signal appends the typing or read event.
func (s *Service) signal(ctx context.Context, op, accountID, conversationID string, data map[string]any, typing *bool, readID string) error {
	typ := EventChatRead
	if typing != nil {
		typ, data["typing"] = EventChatTyping, *typing
	} else {
		if len(readID) > maxExternalID {
			return sb.Invalidf(op, "message_id", "message_id is too long")
		}
		data["message_id"] = readID
	}
	err := s.store.Update(ctx, accountID, func(tx sb.Tx) error {
		c, err := tx.Conversation(ctx, accountID, conversationID)
		if err != nil {
			return err
		}
		e, err := conversationEvent(c, typ, data, s.Now())
		if err != nil {
			return err
		}
		return tx.AppendEvent(ctx, e)
	})
	return sb.Wrap(op, err)
}

// ChatTranscript is what a transcript mail is made of (R-C4).
type ChatTranscript struct {
	Channel      *sb.Channel
	Account      *sb.Account
	Contact      *sb.Contact
	Conversation *sb.Conversation
	Messages     []*sb.Message // no internal notes, oldest first
	Names        map[string]string
}

// LoadTranscript reads a closed chat's transcript inside tx (a CloseHook's
// transaction).
func LoadTranscript(ctx context.Context, tx sb.Tx, c *sb.Conversation) (*ChatTranscript, error) {
	t := &ChatTranscript{Conversation: c, Names: map[string]string{}}
	var err error
	if t.Channel, err = tx.Channel(ctx, c.AccountID, c.ChannelID); err != nil {
		return nil, err
	}
	if t.Account, err = tx.Account(ctx, c.AccountID); err != nil {
		return nil, err
	}
	if t.Contact, err = tx.Contact(ctx, c.AccountID, c.ContactID); err != nil {
		return nil, err
	}
	ms, err := tx.Messages(ctx, c.AccountID, c.ID)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.Direction == sb.DirectionNote {
			continue
		}
		t.Messages = append(t.Messages, m)
		if m.AuthorUserID != "" && t.Names[m.AuthorUserID] == "" {
			if u, err := tx.User(ctx, c.AccountID, m.AuthorUserID); err == nil {
				t.Names[u.ID] = u.Name
			}
		}
	}
	return t, nil
}

// VisitorName is how a transcript names the visitor.
func (t *ChatTranscript) VisitorName() string {
	if n := strings.TrimSpace(t.Contact.Name); n != "" {
		return n
	}
	return "You"
}

// AuthorName names a message's author as the transcript shows it.
func (t *ChatTranscript) AuthorName(m *sb.Message) string {
	if m.Direction == sb.DirectionIn {
		return t.VisitorName()
	}
	if n := t.Names[m.AuthorUserID]; n != "" {
		return n
	}
	return fmt.Sprintf("%s team", t.Account.Name)
}
