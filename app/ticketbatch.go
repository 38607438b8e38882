package app

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	sb "github.com/switchboard-dev/switchboard"
)

// Tickets in the routing batch (R-T1 … R-T4). A new conversation on a
// channel that treats conversations as tickets gets its ticket in the
// same transaction, without adding statements per arrival: the batch
// prefetches the pipelines, the account's limit and the senders' ticket
// counts (three statements, only when a ticket channel is in the batch)
// and writes the tickets, flags and owner changes in one bulk statement
// each.

// batchTickets is the batch's ticket state; nil until a ticket channel is
// seen.
type batchTickets struct {
	pipelines    []*sb.Pipeline
	newPipelines []*sb.Pipeline
	limit        int
	counts       map[string]int // contact id → tickets it has
	tickets      []*sb.Ticket
	flags        []*sb.ConversationFlag
	follow       []sb.TicketOwner
	events       []*sb.Event
}

// formTicket is R-T4's ticket fields of a form submission, which the form
// entry point puts in the message's meta under "ticket".
type formTicket struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Pipeline    string `json:"pipeline"`
	Stage       string `json:"stage"`
}

// ticketMeta returns a message's form ticket fields, if any.
func ticketMeta(meta json.RawMessage) *formTicket {
	if len(meta) == 0 {
		return nil
	}
	var m struct {
		Ticket *formTicket `json:"ticket"`
	}
	if json.Unmarshal(meta, &m) != nil {
		return nil
	}
	return m.Ticket
}

// wantsTicket reports whether a new conversation from this arrival gets a
// ticket: its channel treats conversations as tickets (R-T1), or it is a
// form submission with ticket fields (R-T4).
func wantsTicket(ch *sb.Channel, meta json.RawMessage) bool {
	if ch == nil {
		return false
	}
	return ch.Tickets.Enabled || (ch.Kind == sb.KindForm && ticketMeta(meta) != nil)
}

// prefetchTickets loads what the batch's tickets need, if any arrival may
// create one.
func (b *batch) prefetchTickets(group []*arrival) error {
	want := false
	for _, ar := range group {
		want = want || wantsTicket(b.channels[ar.channelID], ar.in.Meta)
	}
	if !want {
		return nil
	}
	// Every stored contact the batch can reach, even through a key another
	// arrival links to it, is one that the bulk lookup indexed.
	seen := map[string]bool{}
	var contacts []string
	for _, m := range []map[string]*sb.Contact{b.byEmail, b.byToken, b.byPhone} {
		for _, c := range m {
			if !seen[c.ID] {
				seen[c.ID] = true
				contacts = append(contacts, c.ID)
			}
		}
	}
	tk := &batchTickets{}
	var err error
	if tk.pipelines, err = b.tx.Pipelines(b.ctx, b.accountID); err != nil {
		return err
	}
	if len(tk.pipelines) == 0 {
		p := b.s.newDefaultPipeline(b.accountID)
		tk.pipelines, tk.newPipelines = []*sb.Pipeline{p}, []*sb.Pipeline{p}
	}
	if tk.limit, err = contactLimit(b.ctx, b.tx, b.accountID); err != nil {
		return err
	}
	if tk.counts, err = b.tx.ContactTicketCounts(b.ctx, b.accountID, contacts); err != nil {
		return err
	}
	b.tk = tk
	return nil
}

// ticketFor creates the ticket of new conversation c (R-T1, R-T4), owned
// by its assignee (R-T2), or flags c when the contact has reached the
// account's limit (R-T3): then no ticket is created and nothing else
// changes.
func (b *batch) ticketFor(ch *sb.Channel, c *sb.Conversation, m *sb.Message) {
	meta := m.Meta
	if b.tk == nil || !wantsTicket(ch, meta) {
		return
	}
	tk := b.tk
	if n := tk.counts[c.ContactID]; n >= tk.limit {
		f := &sb.ConversationFlag{AccountID: b.accountID, ConversationID: c.ID, Flag: sb.FlagTicketLimitReached, CreatedAt: b.now,
			Detail: fmt.Sprintf("No ticket was created: the contact already has %d tickets, the account's limit (R-T3).", n)}
		tk.flags = append(tk.flags, f)
		if data, err := json.Marshal(f); err == nil {
			tk.events = append(tk.events, &sb.Event{AccountID: b.accountID, Type: sb.EventConversationFlagged, InboxID: c.InboxID,
				ConversationID: c.ID, UserID: c.AssigneeID, Data: data, CreatedAt: b.now})
		}
		return
	}
	ft := ticketMeta(meta)
	if ch.Kind != sb.KindForm {
		ft = nil
	}
	pipelineRef, stageRef := ch.Tickets.Pipeline, ch.Tickets.Stage
	name, description := ticketName(c, m.Body), ""
	if ft != nil {
		if ft.Pipeline != "" {
			pipelineRef = ft.Pipeline
		}
		if ft.Stage != "" {
			stageRef = ft.Stage
		}
		if n := strings.TrimSpace(ft.Name); n != "" {
			name = clipTicketText(n, maxTicketName)
		}
		description = ft.Description
		if len(description) > maxTicketDescription {
			description = description[:maxTicketDescription]
		}
		description = strings.ToValidUTF8(description, "")
	}
	p, st, fellBack := placement(tk.pipelines, pipelineRef, stageRef)
	if fellBack {
		b.s.log.Warn("ticket placed in a default pipeline or stage: the configured one does not exist",
			"channel_id", ch.ID, "pipeline", pipelineRef, "stage", stageRef, "used_pipeline", p.Name, "used_stage", st.Name)
	}
	k := &sb.Ticket{ID: b.s.newID(), AccountID: b.accountID, PipelineID: p.ID, StageID: st.ID, Name: name, Description: description,
		OwnerID: c.AssigneeID, ContactID: c.ContactID, ConversationID: c.ID, InboxID: c.InboxID, CreatedAt: b.now, UpdatedAt: b.now}
	c.TicketID = k.ID
	tk.counts[c.ContactID]++
	tk.tickets = append(tk.tickets, k)
	if e, err := ticketEvent(k, sb.EventTicketCreated, b.now); err == nil {
		tk.events = append(tk.events, e)
	}
}

// ticketName names a conversation's ticket: its subject, else the start of
// the first message.
func ticketName(c *sb.Conversation, body string) string {
	if s := strings.TrimSpace(c.Subject); s != "" {
		return clipTicketText(s, maxTicketName)
	}
	if p := preview(body); p != "" {
		return clipTicketText(p, 80)
	}
	return "Conversation " + c.ID
}

// clipTicketText cuts s to n runes, marking the cut.
func clipTicketText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// ticketOnOpen gives a new conversation its ticket (R-T1 … R-T4); a
// reopened one keeps the ticket it has, whose owner may follow (R-T2).
func (b *batch) ticketOnOpen(ch *sb.Channel, c *sb.Conversation, m *sb.Message, created bool) {
	if created {
		b.ticketFor(ch, c, m)
	} else {
		b.ticketFollows(c)
	}
}

// ticketFollows is R-T2 in the batch: a conversation routed afresh (R-V3)
// gives its ticket the new assignee as owner if it has none and nobody
// set one.
func (b *batch) ticketFollows(c *sb.Conversation) {
	if c.TicketID == "" || c.AssigneeID == "" {
		return
	}
	if b.tk == nil {
		b.tk = &batchTickets{counts: map[string]int{}}
	}
	b.tk.follow = append(b.tk.follow, sb.TicketOwner{TicketID: c.TicketID, OwnerID: c.AssigneeID})
}

// flushTickets writes the batch's pipelines, tickets, flags and owner
// changes (one bulk statement each, only those with rows) and queues the
// ticket events after the batch's others.
func (b *batch) flushTickets() error {
	tk := b.tk
	if tk == nil {
		return nil
	}
	for _, p := range tk.newPipelines {
		if err := b.tx.CreatePipeline(b.ctx, p); err != nil {
			return err
		}
	}
	if err := b.tx.CreateTickets(b.ctx, tk.tickets); err != nil {
		return err
	}
	if err := b.tx.AddConversationFlags(b.ctx, tk.flags); err != nil {
		return err
	}
	if len(tk.follow) > 0 {
		changed, err := b.tx.FollowAssignees(b.ctx, b.accountID, tk.follow, b.now)
		if err != nil {
			return err
		}
		slices.SortFunc(changed, func(x, y *sb.Ticket) int { return strings.Compare(x.ID, y.ID) })
		for _, k := range changed {
			e, err := ticketEvent(k, sb.EventTicketUpdated, b.now)
			if err != nil {
				return err
			}
			tk.events = append(tk.events, e)
		}
	}
	b.events = append(b.events, tk.events...)
	return nil
}
