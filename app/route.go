package app

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// snapshot loads the account's users, teams and inboxes for the engine,
// always from the store (the drains run inside other writes' transactions).
func (s *Service) snapshot(ctx context.Context, tx sb.Tx, accountID string) (*routing.Snapshot, error) {
	rows, err := loadRows(ctx, tx, accountID)
	if err != nil {
		return nil, err
	}
	return rows.snapshot(s.Now()), nil
}

// route stores (in the batch) and routes one arrival. reject is a reason
// to refuse this arrival alone; err aborts the whole transaction.
func (b *batch) route(ar *arrival) (res *InboundResult, reject, err error) {
	ch := b.channels[ar.channelID]
	if ch == nil {
		return nil, sb.E("app.Deliver", sb.NotFound, "channel_not_found", "no such channel"), nil
	}
	in := ar.in
	key := sb.ExternalKey{ChannelID: ch.ID, ExternalID: in.ExternalID}
	if in.ExternalID != "" {
		if r, ok := b.seen[key]; ok {
			return duplicateOf(r), nil, nil
		}
	}
	contact, known := b.contact(ch, in.Contact)
	m := &sb.Message{ID: b.s.newID(), AccountID: b.accountID, ChannelID: ch.ID, Direction: sb.DirectionIn, ContactID: contact.ID, Body: in.Body, ExternalID: in.ExternalID, CreatedAt: b.now, Meta: in.Meta}
	b.messages = append(b.messages, m)
	latest := b.latest[sb.ContactChannel{ContactID: contact.ID, ChannelID: ch.ID}]
	thread := b.threads[in.ConversationID]
	if thread != nil && thread.ChannelID != ch.ID {
		thread = nil // another channel's conversation: not a thread of this one
	}
	switch {
	case thread != nil && thread.Status == sb.StatusOpen:
		res, err = b.continueConversation(ch, thread, contact, known, m)
	case thread != nil && in.AutoReply:
		res, err = b.fileAutoReply(thread, m)
	case thread != nil:
		res, err = b.reopenConversation(ch, thread, contact, known, m)
	case in.ConversationID == "" && !in.NewThread && latest != nil && latest.Status == sb.StatusOpen:
		res, err = b.continueConversation(ch, latest, contact, known, m)
	default:
		res, err = b.newConversation(ch, latest, contact, known, m, in.Subject)
	}
	if err != nil {
		return nil, nil, err
	}
	if in.ExternalID != "" {
		b.seen[key] = res
	}
	return res, nil, nil
}

func duplicateOf(r *InboundResult) *InboundResult {
	d := *r
	d.Duplicate, d.Decision = true, nil
	return &d
}

// contact finds the sender's contact or creates one (R-E4). known reports
// that it existed before this message and was identified the way R-A8
// asks for this kind of channel: by email for email and forms, by visitor
// token for chat.
func (b *batch) contact(ch *sb.Channel, ic InboundContact) (*sb.Contact, bool) {
	c, by := b.findContactBy(ic)
	if c == nil {
		c = &sb.Contact{ID: b.s.newID(), AccountID: b.accountID, Email: ic.Email, Name: ic.Name, Phone: ic.Phone, VisitorToken: ic.VisitorToken, CreatedAt: b.now}
		b.newContacts = append(b.newContacts, c)
		b.isNew[c.ID] = true
		b.index(c)
		return c, false
	}
	b.completeContact(c, ic)
	return c, identifiedFor(ch.Kind, by)
}

// identifiedFor is R-A8's "identified": by email for email and forms, by
// the visitor cookie token for chat; by any key for the other kinds.
func identifiedFor(k sb.ChannelKind, by string) bool {
	switch k {
	case sb.KindEmail, sb.KindForm:
		return by == "email"
	case sb.KindChat:
		return by == "visitor_token"
	}
	return by != ""
}

// completeContact fills in what the contact lacked and this message tells
// (a chat visitor who typed their email gets their token linked, R-C2),
// unless another contact already has that email or token.
func (b *batch) completeContact(c *sb.Contact, ic InboundContact) {
	changed := false
	if c.Name == "" && ic.Name != "" {
		c.Name, changed = ic.Name, true
	}
	if c.Phone == "" && ic.Phone != "" {
		c.Phone, changed = ic.Phone, true
	}
	if c.Email == "" && ic.Email != "" && b.byEmail[ic.Email] == nil {
		c.Email, changed = ic.Email, true
	}
	if c.VisitorToken == "" && ic.VisitorToken != "" && b.byToken[ic.VisitorToken] == nil {
		c.VisitorToken, changed = ic.VisitorToken, true
	}
	if !changed {
		return
	}
	b.index(c)
	if !b.isNew[c.ID] && !b.isUpdated[c.ID] {
		b.isUpdated[c.ID] = true
		b.updContacts = append(b.updContacts, c)
	}
}

// newConversation creates a conversation and routes it (R-A1 … R-A10): a
// first one (trigger created) or, after a closed one, a returning contact
// who goes to the previous assignee if still a candidate (R-X4).
func (b *batch) newConversation(ch *sb.Channel, latest *sb.Conversation, contact *sb.Contact, known bool, m *sb.Message, subject string) (*InboundResult, error) {
	c := &sb.Conversation{ID: b.s.newID(), AccountID: b.accountID, InboxID: ch.InboxID, ChannelID: ch.ID, ChannelKind: ch.Kind, ContactID: contact.ID,
		Status: sb.StatusOpen, Subject: subject, Preview: preview(m.Body), CreatedAt: b.now, LastActivityAt: b.now}
	arr := routing.Arrival{Trigger: sb.TriggerCreated, Contact: contact, ContactKnown: known, StepUserIDs: stepUsers(ch)}
	if latest != nil {
		arr.Trigger, arr.Previous = sb.TriggerReturning, latest.AssigneeID
	}
	b.newConvs = append(b.newConvs, c)
	b.isNew[c.ID] = true
	b.latest[sb.ContactChannel{ContactID: contact.ID, ChannelID: ch.ID}] = c
	m.ConversationID = c.ID
	return b.routeOpened(ch, c, m, arr, sb.EventConversationCreated)
}

// reopenConversation adds a message to a closed conversation it answers
// (an email reply in its thread): the conversation opens again and goes to
// its previous assignee if they are still a candidate, else it is routed
// afresh (R-X4).
func (b *batch) reopenConversation(ch *sb.Channel, c *sb.Conversation, contact *sb.Contact, known bool, m *sb.Message) (*InboundResult, error) {
	m.ConversationID = c.ID
	c.Status, c.ClosedAt, c.Waiting = sb.StatusOpen, time.Time{}, false
	c.LastActivityAt, c.Preview = b.now, preview(m.Body)
	b.touched(c)
	arr := routing.Arrival{Trigger: sb.TriggerReturning, Contact: contact, ContactKnown: known, Previous: c.AssigneeID, StepUserIDs: stepUsers(ch)}
	return b.routeOpened(ch, c, m, arr, sb.EventConversationStatus)
}

// fileAutoReply adds an automatic answer (InboundInput.AutoReply) to the
// closed conversation it answers, which stays closed, unrouted and where
// its views had it.
func (b *batch) fileAutoReply(c *sb.Conversation, m *sb.Message) (*InboundResult, error) {
	m.ConversationID = c.ID
	if err := b.event(c, sb.EventMessageCreated, m); err != nil {
		return nil, err
	}
	return &InboundResult{Conversation: c, Message: m}, nil
}

// routeOpened routes a conversation that has just opened (created, or
// reopened by a reply) with its first message m, and queues its record,
// load, reply timer and events; opened is the event that says it opened.
func (b *batch) routeOpened(ch *sb.Channel, c *sb.Conversation, m *sb.Message, arr routing.Arrival, opened string) (*InboundResult, error) {
	res := b.snap.Pool(ch).Decide(arr, lockedRand{b.s})
	c.AssigneeID, c.Waiting = res.AssigneeID, res.Retry
	b.ticketOnOpen(ch, c, m, opened == sb.EventConversationCreated) // R-T1 … R-T4, before the events that show c
	d := b.record(c, res, arr.Trigger)
	if c.AssigneeID != "" {
		b.loadUp(c)
	}
	if err := b.startReplyTimer(ch, c, nil); err != nil {
		return nil, err
	}
	if err := b.event(c, opened, c); err != nil {
		return nil, err
	}
	if err := b.event(c, sb.EventMessageCreated, m); err != nil {
		return nil, err
	}
	if err := b.announce(c, res); err != nil {
		return nil, err
	}
	return &InboundResult{Conversation: c, Message: m, Decision: d}, nil
}

// continueConversation adds a message to an open conversation. It stays
// with its assignee (R-A11) unless the assignee is away with "reassign
// replies" on, for chat-like channels: then it is routed afresh to someone
// online (R-V3).
func (b *batch) continueConversation(ch *sb.Channel, c *sb.Conversation, contact *sb.Contact, known bool, m *sb.Message) (*InboundResult, error) {
	m.ConversationID = c.ID
	c.LastActivityAt, c.Preview = b.now, preview(m.Body)
	b.touched(c)
	var d *sb.Decision
	if old := c.AssigneeID; old != "" && ch.Kind.ChatLike() && b.reassignReplies(old) {
		arr := routing.Arrival{Trigger: sb.TriggerReassignReplies, Contact: contact, ContactKnown: known, Exclude: []string{old}, ForceAvailable: true, StepUserIDs: stepUsers(ch)}
		res := b.snap.Pool(ch).Decide(arr, lockedRand{b.s})
		b.addLoad(old, -1, zeroTime)
		b.snap.Released(old, c.ChannelKind)
		c.AssigneeID, c.Waiting = res.AssigneeID, res.Retry
		b.ticketFollows(c) // R-T2
		d = b.record(c, res, arr.Trigger)
		if c.AssigneeID != "" {
			b.loadUp(c)
		}
		if err := b.startReplyTimer(ch, c, []string{old}); err != nil {
			return nil, err
		}
		if err := b.announce(c, res); err != nil {
			return nil, err
		}
	}
	if err := b.event(c, sb.EventMessageCreated, m); err != nil {
		return nil, err
	}
	return &InboundResult{Conversation: c, Message: m, Decision: d}, nil
}

// reassignReplies is R-V3's condition: the assignee is away (effectively)
// and has "reassign replies" on.
func (b *batch) reassignReplies(userID string) bool {
	st, _, ok := b.snap.Effective(userID)
	u := b.users[userID]
	return ok && st == sb.Away && u != nil && u.ReassignReplies
}

// loadUp counts a newly assigned conversation towards its assignee's load
// (chat-like kinds), in the batch's snapshot and for the store.
func (b *batch) loadUp(c *sb.Conversation) {
	b.snap.Assigned(c.AssigneeID, c.ChannelKind)
	if c.ChannelKind.ChatLike() {
		b.addLoad(c.AssigneeID, 1, b.now)
	}
}

// record queues R-A12's decision record and returns its summary (without
// the candidates, which can be many; the routing record has them).
func (b *batch) record(c *sb.Conversation, res routing.Result, trigger string) *sb.Decision {
	d := res.Record(b.snap)
	d.ID, d.AccountID, d.ConversationID, d.Trigger, d.CreatedAt = b.s.newID(), b.accountID, c.ID, trigger, b.now
	b.decisions = append(b.decisions, &d)
	sum := d
	sum.Candidates = nil
	return &sum
}

// announce queues the assignment event and R-A8's owner notification.
func (b *batch) announce(c *sb.Conversation, res routing.Result) error {
	if c.AssigneeID != "" {
		if err := b.event(c, sb.EventConversationAssigned, c); err != nil {
			return err
		}
	}
	if res.NotifyOwner {
		data := fmt.Sprintf(`{"conversation_id":%q,"owner_id":%q}`, c.ID, c.AssigneeID)
		b.events = append(b.events, &sb.Event{AccountID: c.AccountID, Type: sb.EventOwnerNotification, InboxID: c.InboxID, ConversationID: c.ID, UserID: c.AssigneeID, Data: []byte(data), CreatedAt: b.now})
		payload, err := json.Marshal(NotifyOwner{ConversationID: c.ID, OwnerID: c.AssigneeID})
		if err != nil {
			return err
		}
		b.jobs = append(b.jobs, &sb.Job{AccountID: c.AccountID, Kind: JobNotifyOwner, Payload: payload, RunAt: b.now, CreatedAt: b.now})
	}
	return nil
}
