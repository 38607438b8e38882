package app

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// maxExternalID bounds an inbound message's external id.
const maxExternalID = 512

// arrival is one inbound message waiting for the batcher.
type arrival struct {
	accountID string
	channelID string
	in        InboundInput
	enqueued  time.Time
	done      chan arrivalResult
}

type arrivalResult struct {
	res *InboundResult
	err error
}

var errNotStarted = errors.New("app: Service.Start was not called")

// Inbound is the generic entry point for integrators (R-I2): a message from
// a contact on any channel of the actor's account. Idempotent on
// ExternalID: a repeat returns the first result with Duplicate set. Admins
// only. The message is stored, routed and its decision recorded in one
// transaction before Inbound returns.
func (s *Service) Inbound(ctx context.Context, a Actor, channelID string, in InboundInput) (*InboundResult, error) {
	const op = "app.Inbound"
	if err := requireAdmin(op, a); err != nil {
		return nil, err
	}
	return s.Deliver(ctx, a.AccountID, channelID, in)
}

// Deliver is Inbound for the public entry points (widget, forms, webhooks,
// SMTP), which have authenticated the sender their own way and resolved the
// channel's account.
func (s *Service) Deliver(ctx context.Context, accountID, channelID string, in InboundInput) (*InboundResult, error) {
	const op = "app.Deliver"
	if err := validateInbound(op, &in); err != nil {
		return nil, err
	}
	if !s.started.Load() {
		return nil, sb.Wrap(op, errNotStarted)
	}
	ar := &arrival{accountID: accountID, channelID: channelID, in: in, enqueued: time.Now(), done: make(chan arrivalResult, 1)}
	select {
	case s.arrivals <- ar:
	case <-ctx.Done():
		return nil, sb.E(op, sb.Unavailable, "overloaded", "the server is too busy to take this message now; try again")
	}
	// Once queued, the arrival is always answered (the batcher finishes its
	// queue before it stops), so a committed message is never reported lost.
	r := <-ar.done
	return r.res, r.err
}

func validateInbound(op string, in *InboundInput) error {
	if err := validateBody(op, in.Body); err != nil {
		return err
	}
	c := &in.Contact
	c.Email, c.Name, c.Phone, c.VisitorToken = normEmail(c.Email), strings.TrimSpace(c.Name), strings.TrimSpace(c.Phone), strings.TrimSpace(c.VisitorToken)
	if c.Email == "" && c.Phone == "" && c.VisitorToken == "" {
		return sb.Invalidf(op, "contact", "contact needs an email, a phone or a visitor_token")
	}
	if c.Email != "" {
		if addr, err := mail.ParseAddress(c.Email); err != nil || addr.Address != c.Email {
			return sb.Invalidf(op, "contact.email", "contact.email %q is not a valid email address", c.Email)
		}
	}
	if len(in.ExternalID) > maxExternalID {
		return sb.Invalidf(op, "external_id", "external_id is longer than %d characters", maxExternalID)
	}
	if len(in.Subject) > 998 {
		return sb.Invalidf(op, "subject", "subject is longer than 998 characters")
	}
	return nil
}

// runBatcher takes queued arrivals and routes them in batches: one
// transaction per account per batch, holding the account's routing lock, so
// that concurrent arrivals are serialised and share one commit. It finishes
// the queue before it returns.
func (s *Service) runBatcher(ctx context.Context) {
	for {
		var first *arrival
		select {
		case first = <-s.arrivals:
		case <-ctx.Done():
			for {
				select {
				case ar := <-s.arrivals:
					s.routeGroup(context.WithoutCancel(ctx), []*arrival{ar})
				default:
					return
				}
			}
		}
		batch := []*arrival{first}
	collect:
		for len(batch) < s.batchMax {
			select {
			case ar := <-s.arrivals:
				batch = append(batch, ar)
			default:
				break collect
			}
		}
		for _, g := range groupByAccount(batch) {
			s.routeGroup(context.WithoutCancel(ctx), g)
		}
	}
}

func groupByAccount(batch []*arrival) [][]*arrival {
	if len(batch) == 1 {
		return [][]*arrival{batch}
	}
	idx := map[string]int{}
	var groups [][]*arrival
	for _, ar := range batch {
		i, ok := idx[ar.accountID]
		if !ok {
			i = len(groups)
			idx[ar.accountID] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], ar)
	}
	return groups
}

// routeGroup routes one account's arrivals in one transaction. If the
// transaction fails, each arrival is retried alone so that one bad message
// cannot fail the others.
func (s *Service) routeGroup(ctx context.Context, group []*arrival) {
	results := make([]arrivalResult, len(group))
	err := s.store.Update(ctx, group[0].accountID, func(tx sb.Tx) error {
		b, err := s.newBatch(ctx, tx, group[0].accountID)
		if err != nil {
			return err
		}
		for i, ar := range group {
			res, reject, err := b.route(ar)
			if err != nil {
				return err
			}
			results[i] = arrivalResult{res: res, err: reject}
		}
		return nil
	})
	if err != nil && len(group) > 1 {
		for _, ar := range group {
			s.routeGroup(ctx, []*arrival{ar})
		}
		return
	}
	now := time.Now()
	for i, ar := range group {
		r := results[i]
		if err != nil {
			r = arrivalResult{err: sb.Wrap("app.Deliver", err)}
			s.log.Error("routing an inbound message failed", "channel_id", ar.channelID, "err", err)
		}
		if r.res != nil && !r.res.Duplicate && r.res.Decision != nil {
			s.metrics.Routed(r.res.Decision.Outcome, now.Sub(ar.enqueued))
		}
		ar.done <- r
	}
}

// batch is the state of one routing transaction.
type batch struct {
	s         *Service
	ctx       context.Context
	tx        sb.Tx
	accountID string
	snap      *routing.Snapshot
	now       time.Time
	channels  map[string]*sb.Channel
	seen      map[string]*InboundResult // channel id + external id → result, within the batch
}

func (s *Service) newBatch(ctx context.Context, tx sb.Tx, accountID string) (*batch, error) {
	snap, err := s.snapshot(ctx, tx, accountID)
	if err != nil {
		return nil, err
	}
	return &batch{s: s, ctx: ctx, tx: tx, accountID: accountID, snap: snap, now: snap.Now(),
		channels: map[string]*sb.Channel{}, seen: map[string]*InboundResult{}}, nil
}

// snapshot loads the account's users, teams and inboxes for the engine.
func (s *Service) snapshot(ctx context.Context, tx sb.Tx, accountID string) (*routing.Snapshot, error) {
	us, err := tx.Users(ctx, accountID)
	if err != nil {
		return nil, err
	}
	ts, err := tx.Teams(ctx, accountID)
	if err != nil {
		return nil, err
	}
	ins, err := tx.Inboxes(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return routing.NewSnapshot(s.Now(), us, ts, ins), nil
}

func (b *batch) channel(id string) (*sb.Channel, error) {
	if c, ok := b.channels[id]; ok {
		return c, nil
	}
	c, err := b.tx.Channel(b.ctx, b.accountID, id)
	if err != nil {
		return nil, err
	}
	b.channels[id] = c
	return c, nil
}

// route stores and routes one arrival. reject is a reason to refuse this
// arrival alone; err aborts the whole transaction.
func (b *batch) route(ar *arrival) (res *InboundResult, reject, err error) {
	const op = "app.Deliver"
	ch, err := b.channel(ar.channelID)
	if sb.IsKind(err, sb.NotFound) {
		return nil, sb.E(op, sb.NotFound, "channel_not_found", "no such channel"), nil
	}
	if err != nil {
		return nil, nil, err
	}
	in := ar.in
	key := ch.ID + "\x00" + in.ExternalID
	if in.ExternalID != "" {
		if r, ok := b.seen[key]; ok {
			return duplicateOf(r), nil, nil
		}
		if r, err := b.existing(ch, in.ExternalID); err != nil || r != nil {
			return r, nil, err
		}
	}
	contact, known, err := b.contact(ch, in.Contact)
	if err != nil {
		return nil, nil, err
	}
	latest, err := b.tx.LatestConversation(b.ctx, b.accountID, contact.ID, ch.ID)
	if err != nil && !sb.IsKind(err, sb.NotFound) {
		return nil, nil, err
	}
	m := &sb.Message{ID: b.s.newID(), AccountID: b.accountID, ChannelID: ch.ID, Direction: sb.DirectionIn, ContactID: contact.ID, Body: in.Body, ExternalID: in.ExternalID, CreatedAt: b.now}
	if latest != nil && latest.Status == sb.StatusOpen {
		res, err = b.continueConversation(ch, latest, contact, known, m)
	} else {
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

// existing returns the result of an earlier delivery of the same external id.
func (b *batch) existing(ch *sb.Channel, externalID string) (*InboundResult, error) {
	m, err := b.tx.MessageByExternalID(b.ctx, b.accountID, ch.ID, externalID)
	if sb.IsKind(err, sb.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c, err := b.tx.Conversation(b.ctx, b.accountID, m.ConversationID)
	if err != nil {
		return nil, err
	}
	return &InboundResult{Conversation: c, Message: m, Duplicate: true}, nil
}

// contact finds the sender's contact or creates one (R-E4). known reports
// that it existed before and was identified the way R-A8 asks for this
// kind of channel: by email for email and forms, by visitor token for chat.
func (b *batch) contact(ch *sb.Channel, ic InboundContact) (*sb.Contact, bool, error) {
	var c *sb.Contact
	var by string
	var err error
	for _, try := range []struct {
		key  string
		find func() (*sb.Contact, error)
	}{
		{"email", func() (*sb.Contact, error) { return b.tx.ContactByEmail(b.ctx, b.accountID, ic.Email) }},
		{"visitor_token", func() (*sb.Contact, error) { return b.tx.ContactByVisitorToken(b.ctx, b.accountID, ic.VisitorToken) }},
		{"phone", func() (*sb.Contact, error) { return b.tx.ContactByPhone(b.ctx, b.accountID, ic.Phone) }},
	} {
		if (try.key == "email" && ic.Email == "") || (try.key == "visitor_token" && ic.VisitorToken == "") || (try.key == "phone" && ic.Phone == "") {
			continue
		}
		c, err = try.find()
		if err == nil {
			by = try.key
			break
		}
		if !sb.IsKind(err, sb.NotFound) {
			return nil, false, err
		}
	}
	if c == nil {
		c = &sb.Contact{ID: b.s.newID(), AccountID: b.accountID, Email: ic.Email, Name: ic.Name, Phone: ic.Phone, VisitorToken: ic.VisitorToken, CreatedAt: b.now}
		return c, false, b.tx.CreateContact(b.ctx, c)
	}
	if err := b.completeContact(c, ic); err != nil {
		return nil, false, err
	}
	return c, identifiedFor(ch.Kind, by), nil
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
// (a chat visitor who typed their email gets their token linked, R-C2).
func (b *batch) completeContact(c *sb.Contact, ic InboundContact) error {
	changed := false
	if c.Name == "" && ic.Name != "" {
		c.Name, changed = ic.Name, true
	}
	if c.Phone == "" && ic.Phone != "" {
		c.Phone, changed = ic.Phone, true
	}
	if c.Email == "" && ic.Email != "" {
		if _, err := b.tx.ContactByEmail(b.ctx, b.accountID, ic.Email); sb.IsKind(err, sb.NotFound) {
			c.Email, changed = ic.Email, true
		} else if err != nil {
			return err
		}
	}
	if c.VisitorToken == "" && ic.VisitorToken != "" {
		if _, err := b.tx.ContactByVisitorToken(b.ctx, b.accountID, ic.VisitorToken); sb.IsKind(err, sb.NotFound) {
			c.VisitorToken, changed = ic.VisitorToken, true
		} else if err != nil {
			return err
		}
	}
	if !changed {
		return nil
	}
	return b.tx.UpdateContact(b.ctx, c)
}

// newConversation creates a conversation and routes it (R-A1 … R-A10): a
// first one (trigger created) or, after a closed one, a returning contact
// who goes to the previous assignee if still a candidate (R-X4).
func (b *batch) newConversation(ch *sb.Channel, latest *sb.Conversation, contact *sb.Contact, known bool, m *sb.Message, subject string) (*InboundResult, error) {
	c := &sb.Conversation{ID: b.s.newID(), AccountID: b.accountID, InboxID: ch.InboxID, ChannelID: ch.ID, ChannelKind: ch.Kind, ContactID: contact.ID,
		Status: sb.StatusOpen, Subject: subject, Preview: preview(m.Body), CreatedAt: b.now, LastActivityAt: b.now}
	arr := routing.Arrival{Trigger: sb.TriggerCreated, Contact: contact, ContactKnown: known}
	if latest != nil {
		arr.Trigger, arr.Previous = sb.TriggerReturning, latest.AssigneeID
	}
	res := b.snap.Pool(ch).Decide(arr, lockedRand{b.s})
	c.AssigneeID, c.Waiting = res.AssigneeID, res.Retry
	if err := b.tx.CreateConversation(b.ctx, c); err != nil {
		return nil, err
	}
	m.ConversationID = c.ID
	if err := b.tx.CreateMessage(b.ctx, m); err != nil {
		return nil, err
	}
	d, err := b.record(c, res, arr.Trigger)
	if err != nil {
		return nil, err
	}
	if c.AssigneeID != "" {
		if err := b.loadUp(c); err != nil {
			return nil, err
		}
	}
	for _, typ := range []string{sb.EventConversationCreated, sb.EventMessageCreated} {
		var v any = c
		if typ == sb.EventMessageCreated {
			v = m
		}
		if err := b.s.event(b.ctx, b.tx, c, typ, v); err != nil {
			return nil, err
		}
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
	if err := b.tx.CreateMessage(b.ctx, m); err != nil {
		return nil, err
	}
	c.LastActivityAt, c.Preview = b.now, preview(m.Body)
	var d *sb.Decision
	if old := c.AssigneeID; old != "" && ch.Kind.ChatLike() && b.reassignReplies(old) {
		arr := routing.Arrival{Trigger: sb.TriggerReassignReplies, Contact: contact, ContactKnown: known, Exclude: []string{old}, ForceAvailable: true}
		res := b.snap.Pool(ch).Decide(arr, lockedRand{b.s})
		if err := b.tx.AddLoad(b.ctx, b.accountID, old, -1, time.Time{}); err != nil {
			return nil, err
		}
		b.snap.Released(old, c.ChannelKind)
		c.AssigneeID, c.Waiting = res.AssigneeID, res.Retry
		var err error
		if d, err = b.record(c, res, arr.Trigger); err != nil {
			return nil, err
		}
		if c.AssigneeID != "" {
			if err := b.loadUp(c); err != nil {
				return nil, err
			}
		}
		if err := b.announce(c, res); err != nil {
			return nil, err
		}
	}
	if err := b.tx.UpdateConversation(b.ctx, c); err != nil {
		return nil, err
	}
	if err := b.s.event(b.ctx, b.tx, c, sb.EventMessageCreated, m); err != nil {
		return nil, err
	}
	return &InboundResult{Conversation: c, Message: m, Decision: d}, nil
}

// reassignReplies is R-V3's condition: the assignee is away (effectively)
// and has "reassign replies" on.
func (b *batch) reassignReplies(userID string) bool {
	st, _, ok := b.snap.Effective(userID)
	if !ok || st != sb.Away {
		return false
	}
	u, err := b.tx.User(b.ctx, b.accountID, userID)
	return err == nil && u.ReassignReplies
}

// loadUp counts a newly assigned chat-like conversation towards its
// assignee's load, in the store and in the batch's snapshot.
func (b *batch) loadUp(c *sb.Conversation) error {
	b.snap.Assigned(c.AssigneeID, c.ChannelKind)
	if !c.ChannelKind.ChatLike() {
		return nil
	}
	return b.tx.AddLoad(b.ctx, b.accountID, c.AssigneeID, 1, b.now)
}

// record stores R-A12's decision record and returns its summary (without
// the candidates, which can be many; the routing record has them).
func (b *batch) record(c *sb.Conversation, res routing.Result, trigger string) (*sb.Decision, error) {
	d := res.Record(b.snap)
	d.ID, d.AccountID, d.ConversationID, d.Trigger, d.CreatedAt = b.s.newID(), b.accountID, c.ID, trigger, b.now
	if err := b.tx.CreateDecision(b.ctx, &d); err != nil {
		return nil, err
	}
	sum := d
	sum.Candidates = nil
	return &sum, nil
}

// announce appends the assignment event and R-A8's owner notification.
func (b *batch) announce(c *sb.Conversation, res routing.Result) error {
	if c.AssigneeID != "" {
		if err := b.s.event(b.ctx, b.tx, c, sb.EventConversationAssigned, c); err != nil {
			return err
		}
	}
	if res.NotifyOwner {
		data := fmt.Sprintf(`{"conversation_id":%q,"owner_id":%q}`, c.ID, c.AssigneeID)
		return b.tx.AppendEvent(b.ctx, &sb.Event{AccountID: c.AccountID, Type: sb.EventOwnerNotification, InboxID: c.InboxID, ConversationID: c.ID, UserID: c.AssigneeID, Data: []byte(data), CreatedAt: b.now})
	}
	return nil
}
