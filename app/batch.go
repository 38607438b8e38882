package app

import (
	"context"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// batch is one routing transaction over many arrivals of one account. It
// runs in three phases so that its cost in statements does not grow with
// the number of arrivals (docs/ARCHITECTURE.md): prefetch everything the
// arrivals may need with bulk lookups; route each arrival in memory, in
// order, against the snapshot and the lookups (which it keeps current);
// write everything with bulk statements.
type batch struct {
	s         *Service
	ctx       context.Context
	tx        sb.Tx
	accountID string
	rows      *accountRows // what snap was built from
	snap      *routing.Snapshot
	now       time.Time

	channels map[string]*sb.Channel // nil value: no such channel
	byEmail  map[string]*sb.Contact
	byToken  map[string]*sb.Contact
	byPhone  map[string]*sb.Contact
	latest   map[sb.ContactChannel]*sb.Conversation
	threads  map[string]*sb.Conversation // conversations named by InboundInput.ConversationID
	seen     map[sb.ExternalKey]*InboundResult
	users    map[string]*sb.User

	// What the batch writes, in the order it writes it.
	newContacts []*sb.Contact
	updContacts []*sb.Contact
	newConvs    []*sb.Conversation
	updConvs    []*sb.Conversation
	isNew       map[string]bool // conversation or contact ids created here
	isUpdated   map[string]bool
	messages    []*sb.Message
	decisions   []*sb.Decision
	events      []*sb.Event
	jobs        []*sb.Job
	loads       map[string]*sb.LoadDelta
	loadOrder   []string
	tk          *batchTickets // R-T1 … R-T4 (ticketbatch.go)

	times BatchTimes // for metrics
}

func (s *Service) newBatch(ctx context.Context, tx sb.Tx, accountID string) (*batch, error) {
	start := time.Now()
	rows, err := s.snaps.load(ctx, tx, accountID)
	if err != nil {
		return nil, err
	}
	us := rows.users
	b := &batch{s: s, ctx: ctx, tx: tx, accountID: accountID, rows: rows, snap: rows.snapshot(s.Now()),
		channels: map[string]*sb.Channel{}, byEmail: map[string]*sb.Contact{}, byToken: map[string]*sb.Contact{}, byPhone: map[string]*sb.Contact{},
		latest: map[sb.ContactChannel]*sb.Conversation{}, threads: map[string]*sb.Conversation{}, seen: map[sb.ExternalKey]*InboundResult{}, users: make(map[string]*sb.User, len(us)),
		isNew: map[string]bool{}, isUpdated: map[string]bool{}, loads: map[string]*sb.LoadDelta{}}
	b.now = b.snap.Now()
	for _, u := range us {
		b.users[u.ID] = u
	}
	b.times.Snapshot = time.Since(start)
	return b, nil
}

// run routes the group: one result per arrival; an error aborts the
// transaction.
func (b *batch) run(group []*arrival, read *sb.BatchRead) ([]arrivalResult, error) {
	start := time.Now()
	if err := b.prefetch(group, read); err != nil {
		return nil, err
	}
	routed := time.Now()
	b.times.Prefetch = routed.Sub(start)
	results := make([]arrivalResult, len(group))
	for i, ar := range group {
		res, reject, err := b.route(ar)
		if err != nil {
			return nil, err
		}
		results[i] = arrivalResult{res: res, err: reject}
	}
	written := time.Now()
	b.times.Route = written.Sub(routed)
	err := b.flush()
	b.times.Write = time.Since(written)
	return results, err
}

// batchRead is what the store looks up for the group as it takes the
// lock (Store.UpdateBatch): earlier deliveries of the same external ids,
// and the senders' contacts.
func batchRead(group []*arrival) *sb.BatchRead {
	r := &sb.BatchRead{}
	for _, ar := range group {
		if ar.in.ExternalID != "" {
			r.Keys = append(r.Keys, sb.ExternalKey{ChannelID: ar.channelID, ExternalID: ar.in.ExternalID})
		}
		c := ar.in.Contact
		r.Emails, r.Tokens, r.Phones = append(r.Emails, c.Email), append(r.Tokens, c.VisitorToken), append(r.Phones, c.Phone)
	}
	return r
}

// prefetch takes what the store read (batchRead) and loads the channels,
// the conversations of duplicates and threads and the senders' latest
// conversations, in a few bulk statements.
func (b *batch) prefetch(group []*arrival, read *sb.BatchRead) error {
	var threads []string
	for _, ar := range group {
		if id := ar.in.ConversationID; id != "" {
			threads = append(threads, id)
		}
		if _, ok := b.channels[ar.channelID]; !ok {
			c, err := b.channel(ar.channelID)
			if err != nil {
				return err
			}
			b.channels[ar.channelID] = c
		}
	}
	if err := b.prefetchDuplicates(read.Delivered); err != nil {
		return err
	}
	if len(threads) > 0 {
		convs, err := b.tx.ConversationsByIDs(b.ctx, b.accountID, threads)
		if err != nil {
			return err
		}
		for _, c := range convs {
			b.threads[c.ID] = c
		}
	}
	for _, c := range read.Contacts {
		b.index(c)
	}
	var pairs []sb.ContactChannel
	for _, ar := range group {
		if c := b.findContact(ar.in.Contact); c != nil {
			pairs = append(pairs, sb.ContactChannel{ContactID: c.ID, ChannelID: ar.channelID})
		}
	}
	convs, err := b.tx.LatestConversations(b.ctx, b.accountID, pairs)
	if err != nil {
		return err
	}
	for _, c := range convs {
		b.latest[sb.ContactChannel{ContactID: c.ContactID, ChannelID: c.ChannelID}] = c
	}
	return b.prefetchTickets(group)
}

// channel returns the account's channel with this id (nil if there is
// none), from the rows the snapshot was built from when they have it:
// they are current (snapCache), and every change to a channel bumps the
// account's version.
func (b *batch) channel(id string) (*sb.Channel, error) {
	if c, ok := b.rows.channels[id]; ok {
		return c, nil
	}
	c, err := b.tx.Channel(b.ctx, b.accountID, id)
	if err != nil && !sb.IsKind(err, sb.NotFound) {
		return nil, err
	}
	if b.rows.channels == nil {
		b.rows.channels = map[string]*sb.Channel{}
	}
	b.rows.channels[id] = c
	return c, nil
}

// prefetchDuplicates remembers what the earlier deliveries ms of the
// batch's external ids produced, so that a replay returns it and stores nothing.
func (b *batch) prefetchDuplicates(ms []*sb.Message) error {
	if len(ms) == 0 {
		return nil
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ConversationID
	}
	convs, err := b.tx.ConversationsByIDs(b.ctx, b.accountID, ids)
	if err != nil {
		return err
	}
	byID := make(map[string]*sb.Conversation, len(convs))
	for _, c := range convs {
		byID[c.ID] = c
	}
	for _, m := range ms {
		b.seen[sb.ExternalKey{ChannelID: m.ChannelID, ExternalID: m.ExternalID}] = &InboundResult{Conversation: byID[m.ConversationID], Message: m, Duplicate: true}
	}
	return nil
}

func (b *batch) index(c *sb.Contact) {
	if c.Email != "" {
		b.byEmail[c.Email] = c
	}
	if c.VisitorToken != "" {
		b.byToken[c.VisitorToken] = c
	}
	if c.Phone != "" {
		if _, ok := b.byPhone[c.Phone]; !ok { // the oldest contact with a phone wins
			b.byPhone[c.Phone] = c
		}
	}
}

// findContact looks the sender up by email, then visitor token, then phone.
func (b *batch) findContact(ic InboundContact) *sb.Contact {
	c, _ := b.findContactBy(ic)
	return c
}

func (b *batch) findContactBy(ic InboundContact) (*sb.Contact, string) {
	if c := b.byEmail[ic.Email]; ic.Email != "" && c != nil {
		return c, "email"
	}
	if c := b.byToken[ic.VisitorToken]; ic.VisitorToken != "" && c != nil {
		return c, "visitor_token"
	}
	if c := b.byPhone[ic.Phone]; ic.Phone != "" && c != nil {
		return c, "phone"
	}
	return nil, ""
}

// flush writes what the batch produced, one bulk statement per kind;
// without tickets, the new rows go last, in one CommitBatch (on
// PostgreSQL in the commit's round trip).
func (b *batch) flush() error {
	ctx, tx := b.ctx, b.tx
	loads := make([]sb.LoadDelta, 0, len(b.loadOrder))
	for _, id := range b.loadOrder {
		if d := b.loads[id]; d.Delta != 0 || !d.AssignedAt.IsZero() {
			loads = append(loads, *d)
		}
	}
	if b.tk == nil {
		if err := b.flushUpdates(); err != nil {
			return err
		}
		if err := b.flushJobs(); err != nil {
			return err
		}
		return tx.CommitBatch(ctx, &sb.BatchWrite{AccountID: b.accountID, Contacts: b.newContacts,
			Conversations: b.newConvs, Messages: b.messages, Decisions: b.decisions, Loads: loads, Events: b.events})
	}
	if err := tx.CreateContacts(ctx, b.newContacts); err != nil {
		return err
	}
	if err := tx.CreateConversations(ctx, b.newConvs); err != nil {
		return err
	}
	if err := b.flushUpdates(); err != nil {
		return err
	}
	if err := tx.CreateMessages(ctx, b.messages); err != nil {
		return err
	}
	if err := tx.CreateDecisions(ctx, b.decisions); err != nil {
		return err
	}
	if err := b.flushTickets(); err != nil {
		return err
	}
	if err := tx.AddLoads(ctx, b.accountID, loads); err != nil {
		return err
	}
	if err := b.flushJobs(); err != nil {
		return err
	}
	return tx.AppendEvents(ctx, b.events)
}

// flushUpdates writes the changes to existing contacts and conversations.
func (b *batch) flushUpdates() error {
	for _, c := range b.updContacts {
		if err := b.tx.UpdateContact(b.ctx, c); err != nil {
			return err
		}
	}
	return b.tx.UpdateConversations(b.ctx, b.updConvs)
}

func (b *batch) flushJobs() error {
	for _, j := range b.jobs {
		if err := b.s.Enqueue(b.ctx, b.tx, j); err != nil {
			return err
		}
	}
	return nil
}

// addLoad accumulates a load change for flush.
func (b *batch) addLoad(userID string, delta int, assignedAt time.Time) {
	d, ok := b.loads[userID]
	if !ok {
		d = &sb.LoadDelta{UserID: userID}
		b.loads[userID] = d
		b.loadOrder = append(b.loadOrder, userID)
	}
	d.Delta += delta
	if !assignedAt.IsZero() {
		d.AssignedAt = assignedAt
	}
}

// touched marks an existing conversation as changed, for flush.
func (b *batch) touched(c *sb.Conversation) {
	if !b.isNew[c.ID] && !b.isUpdated[c.ID] {
		b.isUpdated[c.ID] = true
		b.updConvs = append(b.updConvs, c)
	}
}

// event queues an event about c with v's current JSON.
func (b *batch) event(c *sb.Conversation, typ string, v any) error {
	e, err := conversationEvent(c, typ, v, b.now)
	if err != nil {
		return err
	}
	b.events = append(b.events, e)
	return nil
}

var zeroTime time.Time
