package storetest

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// bulkTests are the tests of the bulk Tx methods; RunBulk runs them alone.
var bulkTests = []namedTest{
	{"Bulk/Contacts", testBulkContacts},
	{"Bulk/Conversations", testBulkConversations},
	{"Bulk/LatestConversations", testBulkLatestConversations},
	{"Bulk/MessagesAndDecisions", testBulkMessagesDecisions},
	{"Bulk/DecisionsOfOnePool", testBulkDecisionsOfOnePool},
	{"Bulk/WriteBatch", testBulkWriteBatch},
	{"Bulk/UpdateBatchReads", testBulkUpdateBatchReads},
	{"Bulk/CommitBatch", testBulkCommitBatch},
	{"Bulk/Conflict", testBulkConflict},
	{"Bulk/OtherAccountsRows", testBulkOtherAccounts},
	{"Bulk/Loads", testBulkLoads},
	{"Bulk/Events", testBulkEvents},
	{"Bulk/Empty", testBulkEmpty},
	{"Bulk/ManyRows", testBulkManyRows},
}

// RunBulk runs only the tests of the bulk methods, e.g. against a store
// whose statements take few rows, so that 250 rows run in many chunks.
func RunBulk(t *testing.T, open func(t *testing.T) sb.Store) {
	run(t, open, bulkTests)
}

// bulkRows is how many rows a bulk call of the tests writes or reads: more
// than a store takes in one statement only with small chunks (see
// Bulk/ManyRows for calls beyond the usual chunk sizes).
const bulkRows = 250

func itoa(i int) string { return strconv.Itoa(i) }

// sortByID sorts rows by id, for comparing results that come in no
// particular order.
func sortByID[T any](rows []*T, id func(*T) string) []*T {
	return slices.SortedFunc(slices.Values(rows), func(x, y *T) int { return cmp.Compare(id(x), id(y)) })
}

func contactID(c *sb.Contact) string { return c.ID }
func messageID(m *sb.Message) string { return m.ID }

// storedContact is c as a store returns it.
func storedContact(c *sb.Contact) *sb.Contact {
	s := *c
	s.Email, s.CreatedAt = strings.ToLower(s.Email), us(s.CreatedAt)
	return &s
}

func storedConversation(c *sb.Conversation) *sb.Conversation {
	s := *c
	s.CreatedAt, s.LastActivityAt, s.ClosedAt = us(s.CreatedAt), us(s.LastActivityAt), us(s.ClosedAt)
	return &s
}

func storedMessage(m *sb.Message) *sb.Message {
	s := *m
	s.CreatedAt = us(s.CreatedAt)
	return &s
}

func storedDecision(d *sb.Decision) *sb.Decision {
	s := *d
	s.CreatedAt = us(s.CreatedAt) // the candidates' times are JSON: whole
	return &s
}

func mapSlice[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// testBulkContacts: CreateContacts stores 250 contacts like CreateContact
// (ids generated or kept, emails lower-cased); ContactsByKeys finds
// exactly those having one of the keys, each once, and neither missing
// keys, empty keys nor another account's contacts.
func testBulkContacts(t *testing.T, f *fixture) {
	wa, wb := f.world("a"), f.world("b")
	a, ctx := wa.account.ID, f.ctx
	f.contact(a, "") // has no key at all: empty keys must not find it
	cs := make([]*sb.Contact, bulkRows)
	var emails, tokens, phones []string
	var want []*sb.Contact
	for i := range cs {
		c := &sb.Contact{AccountID: a, Name: "contact " + itoa(i), CreatedAt: at(i)}
		switch i % 5 {
		case 0:
			c.Email = "Bulk-" + itoa(i) + "@Example.com"
			emails = append(emails, strings.ToLower(c.Email))
		case 1:
			c.VisitorToken = "vt-" + itoa(i)
			tokens = append(tokens, c.VisitorToken)
		case 2:
			c.Phone = "+33" + itoa(i/10) // shared by contacts 2 and 7, 12 and 17, …
			phones = append(phones, c.Phone)
		case 3: // found by each of its keys, returned once
			c.Email, c.VisitorToken, c.Phone, c.OwnerID = "all-"+itoa(i)+"@example.com", "vt-"+itoa(i), "+44"+itoa(i), wa.user.ID
			emails, tokens, phones = append(emails, c.Email), append(tokens, c.VisitorToken), append(phones, c.Phone)
		case 4: // no key: not looked up
		}
		if i%7 == 0 {
			c.ID = "bulk-contact-" + itoa(i)
		}
		cs[i] = c
	}
	f.update(a, func(tx sb.Tx) error { return tx.CreateContacts(ctx, cs) })
	for i, c := range cs {
		if i%7 == 0 && c.ID != "bulk-contact-"+itoa(i) {
			t.Errorf("contact %d: CreateContacts replaced the given id with %q", i, c.ID)
		}
		if c.ID == "" {
			t.Fatalf("contact %d: CreateContacts left the id empty", i)
		}
		if c.Email != strings.ToLower(c.Email) {
			t.Errorf("contact %d: CreateContacts left Email %q, want it lower-cased", i, c.Email)
		}
		if i%5 != 4 {
			want = append(want, storedContact(c))
		}
	}
	want = append(want, storedContact(wa.contact)) // by its phone
	phones = append(phones, wa.contact.Phone)
	// Missing keys, empty keys and account B's keys find nothing.
	emails = append(emails, "missing@example.com", "", wb.contact.Email)
	tokens = append(tokens, "missing", "", wb.contact.VisitorToken)
	phones = append(phones, "missing", "", wb.contact.Phone)

	f.view(func(tx sb.Tx) error {
		got, err := tx.ContactsByKeys(ctx, a, emails, tokens, phones)
		must(t, "ContactsByKeys", err)
		diff(t, "ContactsByKeys", sortByID(want, contactID), sortByID(got, contactID))
		for i, c := range cs {
			if i%5 == 4 {
				g, err := tx.Contact(ctx, a, c.ID)
				must(t, "Contact", err)
				diff(t, "Contact created by CreateContacts", storedContact(c), g)
			}
		}
		got, err = tx.ContactsByKeys(ctx, a, emails[:1], nil, nil)
		must(t, "ContactsByKeys(one email)", err)
		diff(t, "ContactsByKeys(one email)", []string{cs[0].ID}, ids(got, contactID))
		got, err = tx.ContactsByKeys(ctx, a, nil, nil, []string{cs[2].Phone})
		must(t, "ContactsByKeys(a shared phone)", err)
		diff(t, "ContactsByKeys(a shared phone)", sortByID([]*sb.Contact{storedContact(cs[2]), storedContact(cs[7])}, contactID),
			sortByID(got, contactID))
		got, err = tx.ContactsByKeys(ctx, wb.account.ID, emails, tokens, phones)
		must(t, "ContactsByKeys(account B)", err)
		diff(t, "ContactsByKeys in account B with A's keys", []*sb.Contact{storedContact(wb.contact)}, got)
		return nil
	})
}

// bulkConversations creates n conversations in w's account over
// contacts, alternating channels, created one minute apart, in one
// CreateConversations call.
func (f *fixture) bulkConversations(w *world, n int, contacts []*sb.Contact, channels []*sb.Channel) []*sb.Conversation {
	f.t.Helper()
	cs := make([]*sb.Conversation, n)
	for i := range cs {
		ch := channels[i%len(channels)]
		cs[i] = &sb.Conversation{AccountID: w.account.ID, InboxID: ch.InboxID, ChannelID: ch.ID,
			ChannelKind: ch.Kind, ContactID: contacts[i%len(contacts)].ID, Status: sb.StatusOpen,
			AssigneeID: w.user.ID, TeamID: w.team.ID, TicketID: "t" + itoa(i), Waiting: i%2 == 0,
			Subject: "subject " + itoa(i), Preview: "preview ✓ " + itoa(i), CreatedAt: at(i),
			LastActivityAt: at(i + 1)}
		if i%3 == 0 {
			cs[i].Status, cs[i].ClosedAt = sb.StatusClosed, at(i+2)
		}
	}
	f.update(w.account.ID, func(tx sb.Tx) error { return tx.CreateConversations(f.ctx, cs) })
	return cs
}

// bulkContacts creates n contacts without keys in one CreateContacts call.
func (f *fixture) bulkContacts(accountID string, n int) []*sb.Contact {
	f.t.Helper()
	cs := make([]*sb.Contact, n)
	for i := range cs {
		cs[i] = &sb.Contact{AccountID: accountID, Name: "contact " + itoa(i), CreatedAt: base}
	}
	f.update(accountID, func(tx sb.Tx) error { return tx.CreateContacts(f.ctx, cs) })
	return cs
}

// testBulkConversations: CreateConversations stores 250 conversations
// whole; ConversationsByIDs finds exactly the account's; UpdateConversations
// writes each row's fields (and only UpdateConversation's), or fails with
// NotFound and writes nothing when a row does not exist.
func testBulkConversations(t *testing.T, f *fixture) {
	wa, wb := f.world("a"), f.world("b")
	a, ctx := wa.account.ID, f.ctx
	chY := f.channel(a, wa.inbox.ID, sb.KindEmail)
	contacts := f.bulkContacts(a, 25)
	cs := f.bulkConversations(wa, bulkRows, contacts, []*sb.Channel{wa.channel, chY})
	want := mapSlice(cs, storedConversation)
	f.view(func(tx sb.Tx) error {
		got, err := tx.ConversationsByIDs(ctx, a, append(ids(cs, convID), "missing", wb.conv.ID, cs[0].ID))
		must(t, "ConversationsByIDs", err)
		diff(t, "ConversationsByIDs", sortByID(want, convID), sortByID(got, convID))
		got, err = tx.ConversationsByIDs(ctx, wb.account.ID, ids(cs, convID))
		must(t, "ConversationsByIDs(account B)", err)
		diff(t, "ConversationsByIDs in account B with A's ids", 0, len(got))
		return nil
	})

	upd := make([]*sb.Conversation, len(cs))
	for i, c := range cs {
		u := *c
		u.Status, u.AssigneeID, u.TeamID, u.TicketID = sb.StatusOpen, "", "team-"+itoa(i), ""
		u.Waiting, u.Subject, u.Preview = !c.Waiting, "new subject "+itoa(i), ""
		u.LastActivityAt, u.ClosedAt = at(1000+i), time.Time{}
		if i%4 == 0 {
			u.Status, u.ClosedAt = sb.StatusClosed, at(2000+i)
		}
		upd[i] = &u
	}
	wantUpd := make([]*sb.Conversation, len(upd))
	for i, u := range upd {
		wantUpd[i] = storedConversation(u)
		// Not written by UpdateConversations:
		u.InboxID, u.ContactID, u.ChannelID, u.CreatedAt = "ignored", "ignored", "ignored", at(-1)
	}
	f.update(a, func(tx sb.Tx) error { return tx.UpdateConversations(ctx, upd) })
	f.view(func(tx sb.Tx) error {
		got, err := tx.ConversationsByIDs(ctx, a, ids(cs, convID))
		must(t, "ConversationsByIDs", err)
		diff(t, "conversations after UpdateConversations", sortByID(wantUpd, convID), sortByID(got, convID))
		return nil
	})

	// A missing row: NotFound, and nothing of the call is written.
	again := make([]*sb.Conversation, len(cs))
	for i, c := range wantUpd {
		u := *c
		u.Subject = "not written"
		again[i] = &u
	}
	missing := *again[0]
	missing.ID = "missing"
	for _, rows := range [][]*sb.Conversation{
		append(slices.Clone(again), &missing),
		append([]*sb.Conversation{&missing}, again...),
	} {
		err := f.s.Update(ctx, a, func(tx sb.Tx) error { return tx.UpdateConversations(ctx, rows) })
		wantKind(t, "UpdateConversations with a missing row", err, sb.NotFound)
	}
	f.view(func(tx sb.Tx) error {
		got, err := tx.ConversationsByIDs(ctx, a, ids(cs, convID))
		must(t, "ConversationsByIDs", err)
		diff(t, "conversations after a failed UpdateConversations", sortByID(wantUpd, convID), sortByID(got, convID))
		return nil
	})
}

// testBulkLatestConversations: for each (contact, channel) key,
// LatestConversations returns what LatestConversation returns, the newest
// conversation of the pair, and nothing for pairs without one or of
// another account.
func testBulkLatestConversations(t *testing.T, f *fixture) {
	wa, wb := f.world("a"), f.world("b")
	a, ctx := wa.account.ID, f.ctx
	chY := f.channel(a, wa.inbox.ID, sb.KindEmail)
	contacts := f.bulkContacts(a, 45)
	// 45 contacts × 2 channels: 150 conversations created one minute apart
	// go round the 90 pairs, so 60 pairs have two, 30 one.
	cs := f.bulkConversations(wa, 150, contacts, []*sb.Channel{wa.channel, chY})
	newest := map[sb.ContactChannel]*sb.Conversation{
		{ContactID: wa.contact.ID, ChannelID: wa.channel.ID}: wa.conv,
	}
	for _, c := range cs { // later ones are newer
		newest[sb.ContactChannel{ContactID: c.ContactID, ChannelID: c.ChannelID}] = c
	}
	var keys []sb.ContactChannel
	for _, ct := range contacts {
		for _, ch := range []*sb.Channel{wa.channel, chY} {
			keys = append(keys, sb.ContactChannel{ContactID: ct.ID, ChannelID: ch.ID})
		}
	}
	keys = append(keys,
		sb.ContactChannel{ContactID: wa.contact.ID, ChannelID: wa.channel.ID},
		sb.ContactChannel{ContactID: wa.contact.ID, ChannelID: chY.ID},         // none
		sb.ContactChannel{ContactID: wb.contact.ID, ChannelID: wb.channel.ID},  // account B's
		sb.ContactChannel{ContactID: "missing", ChannelID: wa.channel.ID},      // none
		sb.ContactChannel{ContactID: contacts[0].ID, ChannelID: wa.channel.ID}, // twice
		sb.ContactChannel{ContactID: contacts[0].ID, ChannelID: wb.channel.ID}, // none
		sb.ContactChannel{ContactID: contacts[44].ID, ChannelID: "missing"})    // none
	var want []*sb.Conversation
	for _, c := range newest {
		want = append(want, storedConversation(c))
	}
	if len(want) != 91 {
		t.Fatalf("test set-up: %d pairs with a conversation, want 91", len(want))
	}
	f.view(func(tx sb.Tx) error {
		got, err := tx.LatestConversations(ctx, a, keys)
		must(t, "LatestConversations", err)
		diff(t, "LatestConversations", sortByID(want, convID), sortByID(got, convID))
		for _, k := range keys[:20] {
			one, err := tx.LatestConversation(ctx, a, k.ContactID, k.ChannelID)
			if sb.IsKind(err, sb.NotFound) {
				continue
			}
			must(t, "LatestConversation", err)
			if !slices.ContainsFunc(got, func(c *sb.Conversation) bool { return c.ID == one.ID }) {
				t.Errorf("LatestConversation(%v) = %s, which LatestConversations did not return", k, one.ID)
			}
		}
		got, err = tx.LatestConversations(ctx, wb.account.ID, keys)
		must(t, "LatestConversations(account B)", err)
		diff(t, "LatestConversations in account B", []string{wb.conv.ID}, ids(got, convID))
		return nil
	})
}

// testBulkMessagesDecisions: CreateMessages and CreateDecisions store 250
// rows whole; MessagesByExternalIDs finds exactly the existing keys of
// the account.
func testBulkMessagesDecisions(t *testing.T, f *fixture) {
	wa, wb := f.world("a"), f.world("b")
	a, ctx := wa.account.ID, f.ctx
	chY := f.channel(a, wa.inbox.ID, sb.KindEmail)
	convs := f.bulkConversations(wa, 10, []*sb.Contact{wa.contact}, []*sb.Channel{wa.channel, chY})
	ms := make([]*sb.Message, bulkRows)
	ds := make([]*sb.Decision, bulkRows)
	var keys []sb.ExternalKey
	var wantFound []*sb.Message
	for i := range ms {
		c := convs[i%len(convs)]
		m := &sb.Message{AccountID: a, ConversationID: c.ID, ChannelID: c.ChannelID, Direction: sb.DirectionIn,
			ContactID: wa.contact.ID, Body: "body\n" + itoa(i), CreatedAt: at(i)}
		if i%3 != 0 {
			m.ExternalID = "<ext-" + itoa(i) + "@example.com>"
			keys = append(keys, sb.ExternalKey{ChannelID: m.ChannelID, ExternalID: m.ExternalID})
			wantFound = append(wantFound, m)
		} else {
			m.Direction, m.AuthorUserID, m.ContactID = sb.DirectionOut, wa.user.ID, ""
		}
		if i%11 == 0 {
			m.ID = "bulk-message-" + itoa(i)
		}
		ms[i] = m
		ds[i] = &sb.Decision{AccountID: a, ConversationID: c.ID, Trigger: sb.TriggerCreated, Mode: sb.ModeSpecific,
			Strategy: "least_busy", Outcome: sb.OutcomeAssigned, AssigneeID: wa.user.ID, Reason: "reason " + itoa(i),
			TieBreak: "recently_active", NotifyOwner: i%2 == 0, UsedFallback: i%3 == 0, CreatedAt: at(i),
			Candidates: []sb.Candidate{
				{UserID: wa.user.ID, Via: "team:" + wa.team.ID, Status: sb.Available, Load: i, Capacity: 5,
					LastActiveAt: at(-i).Truncate(time.Microsecond), LastAssigned: at(-2 * i).Truncate(time.Microsecond)},
				{UserID: "u" + itoa(i), Via: "user", Status: sb.Away, StatusReason: string(sb.ReasonWorkingHours), Dropped: sb.DropAway},
			}}
		if i%4 == 0 {
			ds[i].Candidates = nil
		}
	}
	f.update(a, func(tx sb.Tx) error {
		must(t, "CreateMessages", tx.CreateMessages(ctx, ms))
		return tx.CreateDecisions(ctx, ds)
	})
	for i, m := range ms {
		if m.ID == "" || ds[i].ID == "" || (i%11 == 0 && m.ID != "bulk-message-"+itoa(i)) {
			t.Fatalf("row %d: message id %q, decision id %q after the bulk inserts", i, m.ID, ds[i].ID)
		}
	}
	wantByConv := map[string][]*sb.Message{wa.conv.ID: {storedMessage(wa.message)}}
	wantDecByConv := map[string][]*sb.Decision{wa.conv.ID: {storedDecision(wa.decision)}}
	for i := range ms { // created one minute apart: oldest first is creation order
		c := ms[i].ConversationID
		wantByConv[c] = append(wantByConv[c], storedMessage(ms[i]))
		wantDecByConv[c] = append(wantDecByConv[c], storedDecision(ds[i]))
	}
	keys = append(keys,
		sb.ExternalKey{ChannelID: wa.message.ChannelID, ExternalID: wa.message.ExternalID},
		sb.ExternalKey{ChannelID: wa.channel.ID, ExternalID: "missing"},
		sb.ExternalKey{ChannelID: wa.channel.ID, ExternalID: ""},                           // empty: never found
		sb.ExternalKey{ChannelID: "other", ExternalID: keys[0].ExternalID},                 // another channel
		sb.ExternalKey{ChannelID: keys[1].ChannelID, ExternalID: keys[0].ExternalID},       // crossed
		sb.ExternalKey{ChannelID: wb.message.ChannelID, ExternalID: wb.message.ExternalID}, // account B's
		keys[0]) // twice
	wantFound = append(wantFound, wa.message)
	f.view(func(tx sb.Tx) error {
		got, err := tx.MessagesByExternalIDs(ctx, a, keys)
		must(t, "MessagesByExternalIDs", err)
		diff(t, "MessagesByExternalIDs", sortByID(mapSlice(wantFound, storedMessage), messageID), sortByID(got, messageID))
		got, err = tx.MessagesByExternalIDs(ctx, wb.account.ID, keys)
		must(t, "MessagesByExternalIDs(account B)", err)
		diff(t, "MessagesByExternalIDs in account B", []string{wb.message.ID}, ids(got, messageID))
		for _, c := range append(convs, wa.conv) {
			msgs, err := tx.Messages(ctx, a, c.ID)
			must(t, "Messages", err)
			diff(t, "Messages of conversation "+c.ID, wantByConv[c.ID], msgs)
			decs, err := tx.Decisions(ctx, a, c.ID)
			must(t, "Decisions", err)
			diff(t, "Decisions of conversation "+c.ID, wantDecByConv[c.ID], decs)
		}
		return nil
	})
}

// testBulkDecisionsOfOnePool: the decisions of one batch weigh the same
// pool and may be stored as changes over one of them; each reads back
// exactly as written (R-A12), whatever its list: the same users with other
// loads, another order, a short list, none, or all changed; and across
// two calls.
func testBulkDecisionsOfOnePool(t *testing.T, f *fixture) {
	wa := f.world("a")
	a, ctx := wa.account.ID, f.ctx
	convs := f.bulkConversations(wa, 7, []*sb.Contact{wa.contact}, []*sb.Channel{wa.channel})
	pool := make([]sb.Candidate, 60)
	for i := range pool {
		pool[i] = sb.Candidate{UserID: "pool-user-" + itoa(i), Via: "team:" + wa.team.ID, Status: sb.Available,
			StatusReason: "manual", Load: i % 4, Capacity: 5, LastActiveAt: at(-i).Truncate(time.Microsecond)}
	}
	variant := func(i int) []sb.Candidate {
		cs := slices.Clone(pool)
		switch i % 7 {
		case 1: // an earlier assignment of the batch raised a load
			cs[i%len(cs)].Load++
			cs[i%len(cs)].LastActiveAt = time.Time{}
		case 2: // another order
			cs[0], cs[1] = cs[1], cs[0]
		case 3: // a short list
			cs = cs[:3]
		case 4: // none
			cs = nil
		case 5: // all changed
			for j := range cs {
				cs[j].Load += 10
			}
		case 6: // at capacity and away
			cs[5].Dropped, cs[6].Status, cs[6].Dropped = sb.DropAtCapacity, sb.Away, sb.DropAway
		}
		return cs
	}
	var want []*sb.Decision
	for call := range 2 {
		var ds []*sb.Decision
		for i := range 3 * bulkRows / 10 {
			c := convs[i%len(convs)]
			ds = append(ds, &sb.Decision{AccountID: a, ConversationID: c.ID, Trigger: sb.TriggerCreated, Mode: sb.ModeSpecific,
				Strategy: "least_busy", Outcome: sb.OutcomeAssigned, AssigneeID: wa.user.ID, Reason: "call " + itoa(call) + " row " + itoa(i),
				CreatedAt: at(call*1000 + i), Candidates: variant(i + call)})
		}
		f.update(a, func(tx sb.Tx) error { return tx.CreateDecisions(ctx, ds) })
		want = append(want, ds...)
	}
	f.view(func(tx sb.Tx) error {
		for _, c := range convs {
			var wantHere []*sb.Decision
			for _, d := range want {
				if d.ConversationID == c.ID {
					wantHere = append(wantHere, storedDecision(d))
				}
			}
			got, err := tx.Decisions(ctx, a, c.ID)
			must(t, "Decisions", err)
			diff(t, "Decisions of conversation "+c.ID, wantHere, got)
		}
		return nil
	})
}

// testBulkWriteBatch: WriteBatch writes a routing batch's rows as the
// separate calls would (ids set, rows readable, loads applied, events
// numbered in order and published after commit); and a batch with a row
// that fails writes nothing and returns that row's method's error.
// testBulkUpdateBatchReads: UpdateBatch fills in its lookups before fn
// runs, as MessagesByExternalIDs and ContactsByKeys would, within the
// account: each contact once however many keys find it, nothing of
// another account, nothing for empty or missing keys; and it does so for
// an account without a row too (the lock is then the advisory one).
func testBulkUpdateBatchReads(t *testing.T, f *fixture) {
	wa, wb := f.world("a"), f.world("b")
	a, ctx := wa.account.ID, f.ctx
	var delivered *sb.Message
	for _, w := range []*world{wa, wb} {
		m := &sb.Message{AccountID: w.account.ID, ConversationID: w.conv.ID, ChannelID: w.channel.ID,
			Direction: sb.DirectionIn, ContactID: w.contact.ID, Body: "hi", ExternalID: "ub-1", CreatedAt: at(1)}
		f.update(w.account.ID, func(tx sb.Tx) error { return tx.CreateMessages(ctx, []*sb.Message{m}) })
		if w == wa {
			delivered = m
		}
	}
	r := &sb.BatchRead{
		Keys: []sb.ExternalKey{{ChannelID: wa.channel.ID, ExternalID: "ub-1"}, {ChannelID: wa.channel.ID, ExternalID: "missing"},
			{ChannelID: wa.channel.ID, ExternalID: ""}, {ChannelID: wb.channel.ID, ExternalID: "ub-1"}},
		Emails: []string{strings.ToUpper(wa.contact.Email), "", "nobody@example.com", wb.contact.Email},
		Tokens: []string{wa.contact.VisitorToken, "", wb.contact.VisitorToken},
		Phones: []string{wa.contact.Phone, "", wb.contact.Phone},
	}
	ran := false
	err := f.s.UpdateBatch(ctx, a, r, func(tx sb.Tx) error {
		ran = true
		diff(t, "Delivered", []*sb.Message{storedMessage(delivered)}, r.Delivered)
		diff(t, "Contacts", []*sb.Contact{storedContact(wa.contact)}, r.Contacts)
		return nil
	})
	if err != nil || !ran {
		t.Fatalf("UpdateBatch: %v (fn ran: %v)", err, ran)
	}

	// Only empty keys, and an account without a row: empty results.
	for _, acc := range []string{a, "no-such-account"} {
		r := &sb.BatchRead{Keys: []sb.ExternalKey{{ChannelID: wa.channel.ID}}, Emails: []string{""}, Tokens: []string{""}, Phones: []string{""}}
		if acc != a {
			r = &sb.BatchRead{Keys: []sb.ExternalKey{{ChannelID: wa.channel.ID, ExternalID: "ub-1"}}, Emails: []string{wa.contact.Email}}
		}
		err := f.s.UpdateBatch(ctx, acc, r, func(tx sb.Tx) error { return nil })
		if err != nil || r.Delivered == nil || len(r.Delivered) != 0 || r.Contacts == nil || len(r.Contacts) != 0 {
			t.Errorf("UpdateBatch(%q) with nothing to find: %v, delivered %v, contacts %v; want empty, non-nil results", acc, err, r.Delivered, r.Contacts)
		}
	}
}

// testBulkCommitBatch: CommitBatch writes like WriteBatch by the time
// Update returns (ids set, rows stored, events published); a statement
// after it sees its rows; and its failure is Update's, leaving nothing.
func testBulkCommitBatch(t *testing.T, f *fixture) {
	wa := f.world("a")
	a, ctx := wa.account.ID, f.ctx
	sub := f.s.Subscribe(ctx, a)
	batch := func(i int) *sb.BatchWrite {
		ct := &sb.Contact{AccountID: a, Email: "commit-" + itoa(i) + "@example.com", CreatedAt: at(i)}
		m := &sb.Message{AccountID: a, ConversationID: wa.conv.ID, ChannelID: wa.channel.ID, Direction: sb.DirectionIn,
			ContactID: wa.contact.ID, Body: "hi", ExternalID: "commit-" + itoa(i), CreatedAt: at(i)}
		return &sb.BatchWrite{AccountID: a, Contacts: []*sb.Contact{ct}, Messages: []*sb.Message{m},
			Loads:  []sb.LoadDelta{{UserID: wa.user.ID, Delta: 1}},
			Events: []*sb.Event{{AccountID: a, Type: "commit " + itoa(i), CreatedAt: at(i)}}}
	}
	b0, b1 := batch(0), batch(1)
	f.update(a, func(tx sb.Tx) error {
		if err := tx.CommitBatch(ctx, b0); err != nil {
			return err
		}
		got, err := tx.ContactsByKeys(ctx, a, []string{b0.Contacts[0].Email}, nil, nil)
		if err != nil || len(got) != 1 {
			t.Errorf("a lookup after CommitBatch: %d contacts (%v), want its contact", len(got), err)
		}
		return err
	})
	f.update(a, func(tx sb.Tx) error { return tx.CommitBatch(ctx, b1) })
	for _, b := range []*sb.BatchWrite{b0, b1} {
		if b.Contacts[0].ID == "" || b.Messages[0].ID == "" || b.Events[0].ID == 0 {
			t.Fatalf("after Update: contact %q, message %q, event %d; want ids", b.Contacts[0].ID, b.Messages[0].ID, b.Events[0].ID)
		}
	}
	f.view(func(tx sb.Tx) error {
		u, err := tx.User(ctx, a, wa.user.ID)
		must(t, "User", err)
		if u.OpenChats != wa.user.OpenChats+2 {
			t.Errorf("load after two CommitBatch: %d, want %d", u.OpenChats, wa.user.OpenChats+2)
		}
		ms, err := tx.MessagesByExternalIDs(ctx, a, []sb.ExternalKey{{ChannelID: wa.channel.ID, ExternalID: "commit-0"}, {ChannelID: wa.channel.ID, ExternalID: "commit-1"}})
		must(t, "MessagesByExternalIDs", err)
		diff(t, "messages of CommitBatch", []*sb.Message{storedMessage(b0.Messages[0]), storedMessage(b1.Messages[0])}, sortByID(ms, messageID))
		return nil
	})
	for _, b := range []*sb.BatchWrite{b0, b1} {
		select {
		case e := <-sub:
			for e.ID <= wa.event.ID { // the world's own
				e = <-sub
			}
			if e.ID != b.Events[0].ID || e.Type != b.Events[0].Type {
				t.Fatalf("published %d %q, want %d %q", e.ID, e.Type, b.Events[0].ID, b.Events[0].Type)
			}
		case <-time.After(eventTimeout):
			t.Fatalf("event %q of CommitBatch not published", b.Events[0].Type)
		}
	}

	// A taken external id: Update fails with Conflict; nothing is written.
	bad := batch(0)
	bad.Contacts[0].Email = "never@example.com"
	err := f.s.Update(ctx, a, func(tx sb.Tx) error { return tx.CommitBatch(ctx, bad) })
	if !sb.IsKind(err, sb.Conflict) {
		t.Fatalf("CommitBatch with a taken external id: Update returned %v, want Conflict", err)
	}
	f.view(func(tx sb.Tx) error {
		got, err := tx.ContactsByKeys(ctx, a, []string{"never@example.com"}, nil, nil)
		must(t, "ContactsByKeys", err)
		u, err := tx.User(ctx, a, wa.user.ID)
		must(t, "User", err)
		if len(got) != 0 || u.OpenChats != wa.user.OpenChats+2 {
			t.Errorf("after the failed CommitBatch: %d contacts, load %d; want none and %d", len(got), u.OpenChats, wa.user.OpenChats+2)
		}
		return nil
	})
}

func testBulkWriteBatch(t *testing.T, f *fixture) {
	wa := f.world("a")
	a, ctx := wa.account.ID, f.ctx
	sub := f.s.Subscribe(ctx, a)
	const n = 20
	b := &sb.BatchWrite{AccountID: a}
	for i := range n {
		ct := &sb.Contact{AccountID: a, Email: "batch-" + itoa(i) + "@example.com", CreatedAt: at(i)}
		c := &sb.Conversation{AccountID: a, InboxID: wa.inbox.ID, ChannelID: wa.channel.ID, ChannelKind: wa.channel.Kind,
			Status: sb.StatusOpen, AssigneeID: wa.user.ID, CreatedAt: at(i), LastActivityAt: at(i)}
		b.Contacts = append(b.Contacts, ct)
		b.Conversations = append(b.Conversations, c)
		b.Events = append(b.Events, &sb.Event{AccountID: a, Type: "batch " + itoa(i), CreatedAt: at(i)})
	}
	f.update(a, func(tx sb.Tx) error {
		// Rows refer to rows created earlier in the same call.
		for i, c := range b.Conversations {
			c.ID, b.Contacts[i].ID = "batch-conv-"+itoa(i), "batch-contact-"+itoa(i)
			c.ContactID = b.Contacts[i].ID
			b.Messages = append(b.Messages, &sb.Message{AccountID: a, ConversationID: c.ID, ChannelID: c.ChannelID,
				Direction: sb.DirectionIn, ContactID: c.ContactID, Body: "hi " + itoa(i), ExternalID: "batch-" + itoa(i), CreatedAt: at(i)})
			b.Decisions = append(b.Decisions, &sb.Decision{AccountID: a, ConversationID: c.ID, Outcome: sb.OutcomeAssigned,
				AssigneeID: wa.user.ID, Reason: "r " + itoa(i), CreatedAt: at(i)})
		}
		b.Loads = []sb.LoadDelta{{UserID: wa.user.ID, Delta: n, AssignedAt: at(n)}}
		return tx.WriteBatch(ctx, b)
	})
	for i := range n {
		if b.Messages[i].ID == "" || b.Decisions[i].ID == "" || b.Events[i].ID == 0 || (i > 0 && b.Events[i].ID <= b.Events[i-1].ID) {
			t.Fatalf("row %d: message %q, decision %q, event %d after WriteBatch; want ids, events in order", i, b.Messages[i].ID, b.Decisions[i].ID, b.Events[i].ID)
		}
	}
	f.view(func(tx sb.Tx) error {
		u, err := tx.User(ctx, a, wa.user.ID)
		must(t, "User", err)
		if u.OpenChats != wa.user.OpenChats+n || !u.LastChatAssignedAt.Equal(us(at(n))) {
			t.Errorf("load after WriteBatch: %d at %v, want %d at %v", u.OpenChats, u.LastChatAssignedAt, wa.user.OpenChats+n, us(at(n)))
		}
		for i, c := range b.Conversations {
			msgs, err := tx.Messages(ctx, a, c.ID)
			must(t, "Messages", err)
			diff(t, "Messages of "+c.ID, []*sb.Message{storedMessage(b.Messages[i])}, msgs)
			decs, err := tx.Decisions(ctx, a, c.ID)
			must(t, "Decisions", err)
			diff(t, "Decisions of "+c.ID, []*sb.Decision{storedDecision(b.Decisions[i])}, decs)
		}
		return nil
	})
	next := func() (sb.Event, bool) { // skips the world's own event
		for {
			select {
			case e := <-sub:
				if e.ID > wa.event.ID {
					return e, true
				}
			case <-time.After(eventTimeout):
				return sb.Event{}, false
			}
		}
	}
	for i := range n {
		if e, ok := next(); !ok {
			t.Fatalf("event %d of WriteBatch not published", i)
		} else if e.ID != b.Events[i].ID || e.Type != b.Events[i].Type {
			t.Fatalf("event %d published: %d %q, want %d %q", i, e.ID, e.Type, b.Events[i].ID, b.Events[i].Type)
		}
	}

	// A message whose external id is taken: Conflict, and nothing of the
	// batch is written.
	bad := &sb.BatchWrite{AccountID: a,
		Contacts: []*sb.Contact{{AccountID: a, Email: "never@example.com"}},
		Messages: []*sb.Message{{AccountID: a, ConversationID: wa.conv.ID, ChannelID: wa.channel.ID, Direction: sb.DirectionIn, ExternalID: "batch-0"}},
		Loads:    []sb.LoadDelta{{UserID: wa.user.ID, Delta: 5}},
		Events:   []*sb.Event{{AccountID: a, Type: "never"}}}
	var werr error
	err := f.s.Update(ctx, a, func(tx sb.Tx) error {
		werr = tx.WriteBatch(ctx, bad)
		return nil // the failed statement dooms the transaction anyway
	})
	if !sb.IsKind(werr, sb.Conflict) || !sb.IsKind(err, sb.Conflict) {
		t.Fatalf("WriteBatch with a taken external id: %v, Update: %v; want Conflict from both", werr, err)
	}
	f.view(func(tx sb.Tx) error {
		got, err := tx.ContactsByKeys(ctx, a, []string{"never@example.com"}, nil, nil)
		must(t, "ContactsByKeys", err)
		u, err := tx.User(ctx, a, wa.user.ID)
		must(t, "User", err)
		if len(got) != 0 || u.OpenChats != wa.user.OpenChats+n {
			t.Errorf("after the failed WriteBatch: %d contacts, load %d; want none written", len(got), u.OpenChats)
		}
		return nil
	})
	select {
	case e := <-sub:
		t.Fatalf("event %q of a failed WriteBatch was published", e.Type)
	case <-time.After(100 * time.Millisecond):
	}
}

// testBulkConflict: a uniqueness violation within one bulk call or
// against an existing row fails the call with Conflict; nothing of it is
// written, and the transaction is doomed even if fn goes on.
func testBulkConflict(t *testing.T, f *fixture) {
	wa := f.world("a")
	a, ctx := wa.account.ID, f.ctx
	msgs := func(n int) []*sb.Message {
		ms := make([]*sb.Message, n)
		for i := range ms {
			ms[i] = &sb.Message{AccountID: a, ConversationID: wa.conv.ID, ChannelID: wa.channel.ID,
				Direction: sb.DirectionIn, ExternalID: "conflict-" + itoa(i), CreatedAt: at(i)}
		}
		return ms
	}
	contacts := func(n int) []*sb.Contact {
		cs := make([]*sb.Contact, n)
		for i := range cs {
			cs[i] = &sb.Contact{AccountID: a, Email: "c" + itoa(i) + "@example.com", VisitorToken: "t" + itoa(i)}
		}
		return cs
	}
	dupLast := msgs(bulkRows)
	dupLast[bulkRows-1].ExternalID = dupLast[0].ExternalID
	dupFirst := msgs(bulkRows)
	dupFirst[1].ExternalID = dupFirst[0].ExternalID
	existing := msgs(bulkRows)
	existing[bulkRows-1].ExternalID = wa.message.ExternalID
	dupEmail := contacts(bulkRows)
	dupEmail[bulkRows-1].Email = "C0@example.com"
	dupToken := contacts(bulkRows)
	dupToken[bulkRows-2].VisitorToken = wa.contact.VisitorToken
	dupID := f.bulkConversations(wa, 3, []*sb.Contact{wa.contact}, []*sb.Channel{wa.channel})
	dupID = append(cloneConversations(dupID), &sb.Conversation{ID: dupID[0].ID, AccountID: a,
		InboxID: wa.inbox.ID, ChannelID: wa.channel.ID, ContactID: wa.contact.ID, Status: sb.StatusOpen})
	for i := range dupID[:3] {
		dupID[i].ID = "" // new conversations, but for the last row
	}
	cases := []struct {
		name string
		fn   func(tx sb.Tx) error
	}{
		{"CreateMessages, two rows with one external id (the last)", func(tx sb.Tx) error { return tx.CreateMessages(ctx, dupLast) }},
		{"CreateMessages, two rows with one external id (the first two)", func(tx sb.Tx) error { return tx.CreateMessages(ctx, dupFirst) }},
		{"CreateMessages, an existing external id", func(tx sb.Tx) error { return tx.CreateMessages(ctx, existing) }},
		{"CreateContacts, two rows with one email", func(tx sb.Tx) error { return tx.CreateContacts(ctx, dupEmail) }},
		{"CreateContacts, an existing visitor token", func(tx sb.Tx) error { return tx.CreateContacts(ctx, dupToken) }},
		{"CreateConversations, an existing id", func(tx sb.Tx) error { return tx.CreateConversations(ctx, dupID) }},
	}
	for _, c := range cases {
		wantKind(t, c.name, f.s.Update(ctx, a, c.fn), sb.Conflict)
		err := f.s.Update(ctx, a, func(tx sb.Tx) error {
			_ = c.fn(tx) // Conflict, ignored
			return nil
		})
		wantKind(t, c.name+", error ignored", err, sb.Conflict)
	}
	var keys []sb.ExternalKey
	for _, m := range msgs(bulkRows) {
		keys = append(keys, sb.ExternalKey{ChannelID: m.ChannelID, ExternalID: m.ExternalID})
	}
	f.view(func(tx sb.Tx) error {
		got, err := tx.MessagesByExternalIDs(ctx, a, keys)
		must(t, "MessagesByExternalIDs", err)
		diff(t, "messages written by failed CreateMessages", 0, len(got))
		var emails, tokens []string
		for _, c := range contacts(bulkRows) {
			emails, tokens = append(emails, c.Email), append(tokens, c.VisitorToken)
		}
		cs, err := tx.ContactsByKeys(ctx, a, emails, tokens, nil)
		must(t, "ContactsByKeys", err)
		diff(t, "contacts written by failed CreateContacts", 0, len(cs))
		convs, err := tx.Conversations(ctx, sb.ConversationFilter{AccountID: a, Limit: 200})
		must(t, "Conversations", err)
		if len(convs) != 4 {
			t.Errorf("%d conversations after a failed CreateConversations, want the 4 there were", len(convs))
		}
		return nil
	})
}

func cloneConversations(cs []*sb.Conversation) []*sb.Conversation {
	return mapSlice(cs, func(c *sb.Conversation) *sb.Conversation { d := *c; return &d })
}

// testBulkOtherAccounts: a bulk insert in account B with a row pointing at
// account A's contact or conversation fails like its one-row twin
// (NotFound) and writes nothing.
func testBulkOtherAccounts(t *testing.T, f *fixture) {
	wa, wb := f.world("a"), f.world("b")
	b, ctx := wb.account.ID, f.ctx
	convs := func(contactID string) []*sb.Conversation {
		cs := make([]*sb.Conversation, bulkRows)
		for i := range cs {
			cs[i] = &sb.Conversation{ID: "b-conv-" + itoa(i), AccountID: b, InboxID: wb.inbox.ID,
				ChannelID: wb.channel.ID, ChannelKind: wb.channel.Kind, ContactID: wb.contact.ID, Status: sb.StatusOpen}
		}
		cs[bulkRows/2].ContactID = contactID
		return cs
	}
	msgs := func(convID string) []*sb.Message {
		ms := make([]*sb.Message, bulkRows)
		for i := range ms {
			ms[i] = &sb.Message{ID: "b-msg-" + itoa(i), AccountID: b, ConversationID: wb.conv.ID,
				ChannelID: wb.channel.ID, Direction: sb.DirectionNote}
		}
		ms[bulkRows-1].ConversationID = convID
		return ms
	}
	decs := func(convID string) []*sb.Decision {
		ds := make([]*sb.Decision, bulkRows)
		for i := range ds {
			ds[i] = &sb.Decision{ID: "b-dec-" + itoa(i), AccountID: b, ConversationID: wb.conv.ID}
		}
		ds[bulkRows-1].ConversationID = convID
		return ds
	}
	for _, c := range []getter{
		{"CreateConversations with A's contact", func(tx sb.Tx) error { return tx.CreateConversations(ctx, convs(wa.contact.ID)) }},
		{"CreateConversations with a missing contact", func(tx sb.Tx) error { return tx.CreateConversations(ctx, convs("missing")) }},
		{"CreateMessages in A's conversation", func(tx sb.Tx) error { return tx.CreateMessages(ctx, msgs(wa.conv.ID)) }},
		{"CreateDecisions for A's conversation", func(tx sb.Tx) error { return tx.CreateDecisions(ctx, decs(wa.conv.ID)) }},
	} {
		wantKind(t, c.name, f.s.Update(ctx, b, c.call), sb.NotFound)
	}
	f.view(func(tx sb.Tx) error {
		got, err := tx.ConversationsByIDs(ctx, b, ids(convs(""), convID))
		must(t, "ConversationsByIDs", err)
		diff(t, "conversations written by a failed CreateConversations", 0, len(got))
		m, err := tx.Messages(ctx, b, wb.conv.ID)
		must(t, "Messages", err)
		diff(t, "messages of B's conversation", []string{wb.message.ID}, ids(m, messageID))
		d, err := tx.Decisions(ctx, b, wb.conv.ID)
		must(t, "Decisions", err)
		diff(t, "decisions of B's conversation", 1, len(d))
		return nil
	})
	// The same rows without the stray one are fine.
	f.update(b, func(tx sb.Tx) error {
		return tx.CreateConversations(ctx, convs(wb.contact.ID))
	})
}

// testBulkLoads: AddLoads applies each user's delta, setting
// LastChatAssignedAt only with a time; NotFound (and nothing written) if a
// user is missing or of another account.
func testBulkLoads(t *testing.T, f *fixture) {
	wa, wb := f.world("a"), f.world("b")
	a, ctx := wa.account.ID, f.ctx
	users := make([]*sb.User, bulkRows)
	f.update(a, func(tx sb.Tx) error {
		for i := range users {
			users[i] = &sb.User{AccountID: a, Email: "agent-" + itoa(i) + "@example.com", Role: sb.RoleAgent,
				Status: sb.Available, OpenChats: i % 3, LastChatAssignedAt: at(-i), CreatedAt: base}
			if err := tx.CreateUser(ctx, users[i]); err != nil {
				return err
			}
		}
		return nil
	})
	deltas := make([]sb.LoadDelta, len(users))
	for i, u := range users {
		deltas[i] = sb.LoadDelta{UserID: u.ID, Delta: i%5 - 2}
		if i%2 == 0 {
			deltas[i].AssignedAt = at(i)
		}
	}
	plusOne := mapSlice(users, func(u *sb.User) sb.LoadDelta { return sb.LoadDelta{UserID: u.ID, Delta: 1} })
	f.update(a, func(tx sb.Tx) error {
		must(t, "AddLoads", tx.AddLoads(ctx, a, deltas))
		return tx.AddLoads(ctx, a, plusOne)
	})
	check := func(when string) {
		f.view(func(tx sb.Tx) error {
			all, err := tx.Users(ctx, a)
			must(t, "Users", err)
			byID := map[string]*sb.User{}
			for _, u := range all {
				byID[u.ID] = u
			}
			for i, u := range users {
				got := byID[u.ID]
				wantLoad, wantAt := i%3+i%5-2+1, us(at(-i))
				if i%2 == 0 {
					wantAt = us(at(i))
				}
				if got == nil || got.OpenChats != wantLoad || !got.LastChatAssignedAt.Equal(wantAt) {
					t.Fatalf("%s: user %d: %+v; want OpenChats %d, LastChatAssignedAt %v", when, i, got, wantLoad, wantAt)
				}
			}
			return nil
		})
	}
	check("after AddLoads")

	withMissing := append(slices.Clone(plusOne), sb.LoadDelta{UserID: "missing", Delta: 1, AssignedAt: at(5)})
	wantKind(t, "AddLoads with a missing user", f.s.Update(ctx, a, func(tx sb.Tx) error {
		return tx.AddLoads(ctx, a, withMissing)
	}), sb.NotFound)
	wantKind(t, "AddLoads with another account's user", f.s.Update(ctx, a, func(tx sb.Tx) error {
		return tx.AddLoads(ctx, a, append(slices.Clone(plusOne), sb.LoadDelta{UserID: wb.user.ID, Delta: 1}))
	}), sb.NotFound)
	check("after failed AddLoads")
	f.view(func(tx sb.Tx) error {
		u, err := tx.User(ctx, wb.account.ID, wb.user.ID)
		must(t, "User", err)
		diff(t, "account B's user's load", 0, u.OpenChats)
		return nil
	})
}

// testBulkEvents: AppendEvents stores 250 events in order, whole, with
// ascending ids (after those appended before it in the transaction and
// before those appended after), and subscribers receive them in that
// order. A rolled-back call stores and publishes nothing.
func testBulkEvents(t *testing.T, f *fixture) {
	wa, wb := f.world("a"), f.world("b")
	a, ctx := wa.account.ID, f.ctx
	sub := f.s.Subscribe(ctx, a)
	received := make(chan []sb.Event, 1)
	const n = bulkRows + 2
	go func() { // reads as events come, so that the subscriber's buffer never fills
		var got []sb.Event
		defer func() { received <- got }()
		timeout := time.After(eventTimeout)
		for len(got) < n {
			select {
			case e, ok := <-sub:
				if !ok {
					return
				}
				if e.ID > wa.event.ID {
					got = append(got, e)
				}
			case <-timeout:
				return
			}
		}
	}()

	err := f.s.Update(ctx, a, func(tx sb.Tx) error {
		must(t, "AppendEvents", tx.AppendEvents(ctx, []*sb.Event{{AccountID: a, Type: "rolled back"}, {AccountID: a, Type: "rolled back"}}))
		return errBoom
	})
	if err != errBoom {
		t.Fatalf("Update: %v, want errBoom", err)
	}

	first := &sb.Event{AccountID: a, Type: "first", CreatedAt: at(-1)}
	last := &sb.Event{AccountID: a, Type: "last", CreatedAt: at(1000)}
	es := make([]*sb.Event, bulkRows)
	for i := range es {
		es[i] = &sb.Event{AccountID: a, Type: "bulk." + itoa(i), InboxID: "in" + itoa(i%3),
			ConversationID: "c" + itoa(i), UserID: "u" + itoa(i%7), CreatedAt: at(i),
			Data: json.RawMessage(`{"i": ` + itoa(i) + `,  "s":"✓"}`)}
		switch {
		case i == 7 || i == 177: // beyond one notification
			es[i].Data = json.RawMessage(`"` + strings.Repeat("x", 9000) + `"`)
		case i%10 == 3:
			es[i].Data = nil
		}
	}
	f.update(a, func(tx sb.Tx) error {
		must(t, "AppendEvent", tx.AppendEvent(ctx, first))
		must(t, "AppendEvents", tx.AppendEvents(ctx, es))
		return tx.AppendEvent(ctx, last)
	})
	f.update(wb.account.ID, func(tx sb.Tx) error {
		return tx.AppendEvents(ctx, []*sb.Event{{AccountID: wb.account.ID, Type: "b"}})
	})
	all := append(append([]*sb.Event{first}, es...), last)
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID {
			t.Fatalf("event %d has id %d after %d: want ascending ids in the order appended", i, all[i].ID, all[i-1].ID)
		}
	}
	want := mapSlice(all, stored)
	f.view(func(tx sb.Tx) error {
		got, err := tx.EventsSince(ctx, a, wa.event.ID, 1000)
		must(t, "EventsSince", err)
		diff(t, "EventsSince after AppendEvents", want, got)
		if err := tx.AppendEvents(ctx, []*sb.Event{{AccountID: a, Type: "x"}}); err == nil {
			t.Errorf("AppendEvents in a View succeeded")
		}
		return nil
	})
	got := <-received
	diff(t, "events received by the subscriber", want, mapSlice(got, func(e sb.Event) *sb.Event { return &e }))
}

// testBulkEmpty: every bulk method does nothing, successfully, with no
// rows or keys (nil or empty), or with empty keys only.
func testBulkEmpty(t *testing.T, f *fixture) {
	w := f.world("a")
	a, ctx := w.account.ID, f.ctx
	f.update(a, func(tx sb.Tx) error {
		must(t, "CreateContacts", tx.CreateContacts(ctx, nil))
		must(t, "CreateContacts", tx.CreateContacts(ctx, []*sb.Contact{}))
		must(t, "CreateConversations", tx.CreateConversations(ctx, nil))
		must(t, "CreateConversations", tx.CreateConversations(ctx, []*sb.Conversation{}))
		must(t, "CreateMessages", tx.CreateMessages(ctx, nil))
		must(t, "CreateMessages", tx.CreateMessages(ctx, []*sb.Message{}))
		must(t, "CreateDecisions", tx.CreateDecisions(ctx, nil))
		must(t, "CreateDecisions", tx.CreateDecisions(ctx, []*sb.Decision{}))
		must(t, "UpdateConversations", tx.UpdateConversations(ctx, nil))
		must(t, "UpdateConversations", tx.UpdateConversations(ctx, []*sb.Conversation{}))
		must(t, "AddLoads", tx.AddLoads(ctx, a, nil))
		must(t, "AddLoads", tx.AddLoads(ctx, a, []sb.LoadDelta{}))
		must(t, "AppendEvents", tx.AppendEvents(ctx, nil))
		return tx.AppendEvents(ctx, []*sb.Event{})
	})
	f.view(func(tx sb.Tx) error {
		lookups := []struct {
			name string
			call func() (int, error)
		}{
			{"ContactsByKeys(nil)", func() (int, error) { r, err := tx.ContactsByKeys(ctx, a, nil, nil, nil); return len(r), err }},
			{"ContactsByKeys(empty keys)", func() (int, error) {
				r, err := tx.ContactsByKeys(ctx, a, []string{""}, []string{"", ""}, []string{""})
				return len(r), err
			}},
			{"MessagesByExternalIDs(nil)", func() (int, error) { r, err := tx.MessagesByExternalIDs(ctx, a, nil); return len(r), err }},
			{"MessagesByExternalIDs(empty external id)", func() (int, error) {
				r, err := tx.MessagesByExternalIDs(ctx, a, []sb.ExternalKey{{ChannelID: w.channel.ID}})
				return len(r), err
			}},
			{"LatestConversations(nil)", func() (int, error) { r, err := tx.LatestConversations(ctx, a, nil); return len(r), err }},
			{"LatestConversations([])", func() (int, error) {
				r, err := tx.LatestConversations(ctx, a, []sb.ContactChannel{})
				return len(r), err
			}},
			{"ConversationsByIDs(nil)", func() (int, error) { r, err := tx.ConversationsByIDs(ctx, a, nil); return len(r), err }},
			{"ConversationsByIDs([])", func() (int, error) { r, err := tx.ConversationsByIDs(ctx, a, []string{}); return len(r), err }},
		}
		for _, l := range lookups {
			n, err := l.call()
			if err != nil || n != 0 {
				t.Errorf("%s: %d rows, error %v; want none and no error", l.name, n, err)
			}
		}
		events, err := tx.EventsSince(ctx, a, w.event.ID, 0)
		must(t, "EventsSince", err)
		diff(t, "events after empty AppendEvents", 0, len(events))
		return nil
	})
}

// testBulkManyRows: calls larger than any store's statement (10,000
// events, 7,000 messages) work, in order, and still write all or nothing.
func testBulkManyRows(t *testing.T, f *fixture) {
	if testing.Short() {
		t.Skip("slow with -short")
	}
	w := f.world("a")
	a, ctx := w.account.ID, f.ctx
	ms := make([]*sb.Message, 7000)
	for i := range ms {
		ms[i] = &sb.Message{AccountID: a, ConversationID: w.conv.ID, ChannelID: w.channel.ID,
			Direction: sb.DirectionIn, ExternalID: "many-" + itoa(i), CreatedAt: at(i + 1)}
	}
	ms[len(ms)-1].ExternalID = ms[0].ExternalID
	wantKind(t, "CreateMessages(7,000 rows, the last a duplicate)", f.s.Update(ctx, a, func(tx sb.Tx) error {
		return tx.CreateMessages(ctx, ms)
	}), sb.Conflict)
	ms[len(ms)-1].ExternalID = "many-last"
	es := make([]*sb.Event, 10000)
	for i := range es {
		es[i] = &sb.Event{AccountID: a, Type: "many", ConversationID: itoa(i)}
	}
	f.update(a, func(tx sb.Tx) error {
		must(t, "CreateMessages", tx.CreateMessages(ctx, ms))
		return tx.AppendEvents(ctx, es)
	})
	for i := 1; i < len(es); i++ {
		if es[i].ID <= es[i-1].ID {
			t.Fatalf("event %d has id %d after %d: want ascending ids in the order appended", i, es[i].ID, es[i-1].ID)
		}
	}
	f.view(func(tx sb.Tx) error {
		got, err := tx.Messages(ctx, a, w.conv.ID)
		must(t, "Messages", err)
		if len(got) != len(ms)+1 {
			t.Fatalf("%d messages, want %d", len(got), len(ms)+1)
		}
		for i, m := range ms {
			if got[i+1].ID != m.ID || got[i+1].ExternalID != m.ExternalID {
				t.Fatalf("message %d: %+v, want %+v", i, got[i+1], m)
			}
		}
		after := w.event.ID
		for i := 0; i < len(es); {
			page, err := tx.EventsSince(ctx, a, after, 1000)
			must(t, "EventsSince", err)
			if len(page) == 0 {
				t.Fatalf("EventsSince ends after %d events, want %d", i, len(es))
			}
			for _, e := range page {
				if e.ID != es[i].ID || e.ConversationID != itoa(i) {
					t.Fatalf("event %d: id %d conversation %q, want %d %q", i, e.ID, e.ConversationID, es[i].ID, itoa(i))
				}
				i++
			}
			after = page[len(page)-1].ID
		}
		return nil
	})
}
