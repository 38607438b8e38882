package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// getters returns a lookup of each kind of row in w, asked in account
// accountID: every one must fail with NotFound unless accountID is w's.
func getters(f *fixture, accountID string, w *world) []getter {
	ctx := f.ctx
	err2 := func(_ any, err error) error { return err }
	return []getter{
		{"User", func(tx sb.Tx) error { return err2(tx.User(ctx, accountID, w.user.ID)) }},
		{"Team", func(tx sb.Tx) error { return err2(tx.Team(ctx, accountID, w.team.ID)) }},
		{"Inbox", func(tx sb.Tx) error { return err2(tx.Inbox(ctx, accountID, w.inbox.ID)) }},
		{"Channel", func(tx sb.Tx) error { return err2(tx.Channel(ctx, accountID, w.channel.ID)) }},
		{"Contact", func(tx sb.Tx) error { return err2(tx.Contact(ctx, accountID, w.contact.ID)) }},
		{"ContactByEmail", func(tx sb.Tx) error { return err2(tx.ContactByEmail(ctx, accountID, w.contact.Email)) }},
		{"ContactByVisitorToken", func(tx sb.Tx) error {
			return err2(tx.ContactByVisitorToken(ctx, accountID, w.contact.VisitorToken))
		}},
		{"ContactByPhone", func(tx sb.Tx) error { return err2(tx.ContactByPhone(ctx, accountID, w.contact.Phone)) }},
		{"Conversation", func(tx sb.Tx) error { return err2(tx.Conversation(ctx, accountID, w.conv.ID)) }},
		{"LatestConversation", func(tx sb.Tx) error {
			return err2(tx.LatestConversation(ctx, accountID, w.contact.ID, w.channel.ID))
		}},
		{"MessageByExternalID", func(tx sb.Tx) error {
			return err2(tx.MessageByExternalID(ctx, accountID, w.channel.ID, w.message.ExternalID))
		}},
	}
}

// testNotFound: every getter, update and delete of a missing row fails
// with NotFound (never a nil row without error); so do lookups by an
// empty key, even though rows with empty emails or tokens exist.
func testNotFound(t *testing.T, f *fixture) {
	w := f.world("a")
	a := w.account.ID
	f.contact(a, "") // a contact without email, visitor token or phone
	ctx := f.ctx
	err2 := func(_ any, err error) error { return err }
	calls := []getter{
		{"Account", func(tx sb.Tx) error { return err2(tx.Account(ctx, "missing")) }},
		{"UserByEmail", func(tx sb.Tx) error { return err2(tx.UserByEmail(ctx, "nobody@example.com")) }},
		{"UserByEmail('')", func(tx sb.Tx) error { return err2(tx.UserByEmail(ctx, "")) }},
		{"TokenByHash", func(tx sb.Tx) error { return err2(tx.TokenByHash(ctx, "missing")) }},
		{"TokenByHash('')", func(tx sb.Tx) error { return err2(tx.TokenByHash(ctx, "")) }},
		{"ChannelByID", func(tx sb.Tx) error { return err2(tx.ChannelByID(ctx, "missing")) }},
		{"ContactByEmail('')", func(tx sb.Tx) error { return err2(tx.ContactByEmail(ctx, a, "")) }},
		{"ContactByVisitorToken('')", func(tx sb.Tx) error { return err2(tx.ContactByVisitorToken(ctx, a, "")) }},
		{"ContactByPhone('')", func(tx sb.Tx) error { return err2(tx.ContactByPhone(ctx, a, "")) }},
		{"MessageByExternalID('')", func(tx sb.Tx) error { return err2(tx.MessageByExternalID(ctx, a, w.channel.ID, "")) }},
		{"LatestConversation(other channel)", func(tx sb.Tx) error {
			return err2(tx.LatestConversation(ctx, a, w.contact.ID, "missing"))
		}},
	}
	missing := &world{user: &sb.User{ID: "missing"}, team: &sb.Team{ID: "missing"}, inbox: &sb.Inbox{ID: "missing"},
		channel: &sb.Channel{ID: "missing"}, contact: &sb.Contact{ID: "missing", Email: "missing@example.com",
			VisitorToken: "missing", Phone: "missing"}, conv: &sb.Conversation{ID: "missing"},
		message: &sb.Message{ExternalID: "missing"}}
	f.view(func(tx sb.Tx) error {
		for _, g := range append(calls, getters(f, a, missing)...) {
			wantKind(t, g.name, g.call(tx), sb.NotFound)
		}
		return nil
	})
	for _, g := range writesTo(f, a, missing) {
		err := f.s.Update(ctx, a, g.call)
		wantKind(t, g.name+" of a missing row", err, sb.NotFound)
	}
}

// writesTo returns an update or delete of each kind of row in w, done in
// account accountID.
func writesTo(f *fixture, accountID string, w *world) []getter {
	ctx := f.ctx
	now := time.Now()
	return []getter{
		{"UpdateUser", func(tx sb.Tx) error {
			u := *w.user
			u.AccountID, u.Name = accountID, "changed"
			return tx.UpdateUser(ctx, &u)
		}},
		{"AddLoad", func(tx sb.Tx) error { return tx.AddLoad(ctx, accountID, w.user.ID, 1, now) }},
		{"TouchUser", func(tx sb.Tx) error { return tx.TouchUser(ctx, accountID, w.user.ID, now) }},
		{"UpdateTeam", func(tx sb.Tx) error {
			tm := *w.team
			tm.AccountID, tm.Name = accountID, "changed"
			return tx.UpdateTeam(ctx, &tm)
		}},
		{"DeleteTeam", func(tx sb.Tx) error { return tx.DeleteTeam(ctx, accountID, w.team.ID) }},
		{"UpdateInbox", func(tx sb.Tx) error {
			in := *w.inbox
			in.AccountID, in.Name = accountID, "changed"
			return tx.UpdateInbox(ctx, &in)
		}},
		{"UpdateChannel", func(tx sb.Tx) error {
			c := *w.channel
			c.AccountID, c.Name = accountID, "changed"
			return tx.UpdateChannel(ctx, &c)
		}},
		{"DeleteChannel", func(tx sb.Tx) error { return tx.DeleteChannel(ctx, accountID, w.channel.ID) }},
		{"UpdateContact", func(tx sb.Tx) error {
			c := *w.contact
			c.AccountID, c.Name = accountID, "changed"
			return tx.UpdateContact(ctx, &c)
		}},
		{"UpdateConversation", func(tx sb.Tx) error {
			c := *w.conv
			c.AccountID, c.Subject = accountID, "changed"
			return tx.UpdateConversation(ctx, &c)
		}},
	}
}

// testAccountIsolation: asked in account B, nothing of account A exists:
// every getter fails with NotFound, every list leaves A's rows out, every
// update or delete fails with NotFound and changes nothing, and B's rows
// cannot refer to A's.
func testAccountIsolation(t *testing.T, f *fixture) {
	wa, wb := f.world("a"), f.world("b")
	a, b := wa.account.ID, wb.account.ID
	ctx := f.ctx

	f.view(func(tx sb.Tx) error {
		for _, g := range getters(f, b, wa) {
			wantKind(t, g.name+" of account A's row asked in account B", g.call(tx), sb.NotFound)
		}
		for _, g := range getters(f, a, wa) {
			if err := g.call(tx); err != nil {
				t.Errorf("%s of account A's row asked in account A: %v", g.name, err)
			}
		}
		aIDs := []string{wa.user.ID, wa.team.ID, wa.inbox.ID, wa.channel.ID, wa.contact.ID, wa.conv.ID,
			wa.message.ID, wa.decision.ID}
		var seen []string
		add := func(id string) { seen = append(seen, id) }
		users, err := tx.Users(ctx, b)
		must(t, "Users", err)
		teams, err := tx.Teams(ctx, b)
		must(t, "Teams", err)
		inboxes, err := tx.Inboxes(ctx, b)
		must(t, "Inboxes", err)
		channels, err := tx.Channels(ctx, b, "")
		must(t, "Channels", err)
		chOfA, err := tx.Channels(ctx, b, wa.inbox.ID)
		must(t, "Channels(A's inbox)", err)
		contacts, err := tx.Contacts(ctx, b, "", 100)
		must(t, "Contacts", err)
		convs, err := tx.Conversations(ctx, sb.ConversationFilter{AccountID: b})
		must(t, "Conversations", err)
		convsOfA, err := tx.Conversations(ctx, sb.ConversationFilter{AccountID: b, InboxID: wa.inbox.ID})
		must(t, "Conversations(A's inbox)", err)
		msgs, err := tx.Messages(ctx, b, wa.conv.ID)
		must(t, "Messages(A's conversation)", err)
		decs, err := tx.Decisions(ctx, b, wa.conv.ID)
		must(t, "Decisions(A's conversation)", err)
		events, err := tx.EventsSince(ctx, b, 0, 1000)
		must(t, "EventsSince", err)
		for _, x := range users {
			add(x.ID)
		}
		for _, x := range teams {
			add(x.ID)
		}
		for _, x := range inboxes {
			add(x.ID)
		}
		for _, x := range append(channels, chOfA...) {
			add(x.ID)
		}
		for _, x := range contacts {
			add(x.ID)
		}
		for _, x := range append(convs, convsOfA...) {
			add(x.ID)
		}
		for _, x := range msgs {
			add(x.ID)
		}
		for _, x := range decs {
			add(x.ID)
		}
		for _, e := range events {
			if e.AccountID != b || e.ID == wa.event.ID {
				t.Errorf("EventsSince(B) returned %+v of another account", e)
			}
		}
		for _, id := range aIDs {
			if slices.Contains(seen, id) {
				t.Errorf("a list in account B returned account A's row %s", id)
			}
		}
		if len(users) != 1 || len(convs) != 1 || len(contacts) != 1 || len(events) != 1 {
			t.Errorf("account B's lists: %d users, %d conversations, %d contacts, %d events; want 1 each",
				len(users), len(convs), len(contacts), len(events))
		}
		return nil
	})

	for _, g := range writesTo(f, b, wa) {
		wantKind(t, g.name+" of account A's row in account B", f.s.Update(ctx, b, g.call), sb.NotFound)
	}
	f.view(func(tx sb.Tx) error {
		for _, g := range getters(f, a, wa) {
			if err := g.call(tx); err != nil {
				t.Errorf("%s after account B's writes: %v", g.name, err)
			}
		}
		u, err := tx.User(ctx, a, wa.user.ID)
		must(t, "User", err)
		tm, err := tx.Team(ctx, a, wa.team.ID)
		must(t, "Team", err)
		c, err := tx.Conversation(ctx, a, wa.conv.ID)
		must(t, "Conversation", err)
		if u.Name != wa.user.Name || u.OpenChats != 0 || !u.LastActiveAt.IsZero() || tm.Name != wa.team.Name || c.Subject != "" {
			t.Errorf("account B's writes changed account A's rows: user %+v, team %+v, conversation %+v", u, tm, c)
		}
		return nil
	})

	// B's rows cannot point at A's.
	refs := []getter{
		{"CreateChannel in A's inbox", func(tx sb.Tx) error {
			return tx.CreateChannel(ctx, &sb.Channel{AccountID: b, InboxID: wa.inbox.ID, Kind: sb.KindChat})
		}},
		{"CreateConversation with A's contact", func(tx sb.Tx) error {
			return tx.CreateConversation(ctx, &sb.Conversation{AccountID: b, InboxID: wb.inbox.ID,
				ChannelID: wb.channel.ID, ContactID: wa.contact.ID, Status: sb.StatusOpen})
		}},
		{"CreateMessage in A's conversation", func(tx sb.Tx) error {
			return tx.CreateMessage(ctx, &sb.Message{AccountID: b, ConversationID: wa.conv.ID,
				ChannelID: wb.channel.ID, Direction: sb.DirectionNote})
		}},
		{"CreateDecision for A's conversation", func(tx sb.Tx) error {
			return tx.CreateDecision(ctx, &sb.Decision{AccountID: b, ConversationID: wa.conv.ID})
		}},
	}
	for _, g := range refs {
		err := f.s.Update(ctx, b, g.call)
		if err == nil || sb.IsKind(err, sb.Internal) {
			t.Errorf("%s: got %v, want it refused with a NotFound or Invalid error", g.name, err)
		}
	}
}

// testConflict: uniqueness is enforced by the store, as Conflict: user
// email across the installation, case-insensitively; contact email and
// visitor token per account; external message id per channel; token hash.
func testConflict(t *testing.T, f *fixture) {
	wa, wb := f.world("a"), f.world("b")
	a, b := wa.account.ID, wb.account.ID
	ctx := f.ctx
	cases := []struct {
		name    string
		account string
		fn      func(tx sb.Tx) error
		ok      bool
	}{
		{"user email, same case", b, func(tx sb.Tx) error {
			return tx.CreateUser(ctx, &sb.User{AccountID: b, Email: wa.user.Email})
		}, false},
		{"user email, other case, other account", b, func(tx sb.Tx) error {
			return tx.CreateUser(ctx, &sb.User{AccountID: b, Email: "A-AGENT@example.com"})
		}, false},
		{"UpdateUser to a taken email", b, func(tx sb.Tx) error {
			u := *wb.user
			u.Email = "A-Agent@Example.com"
			return tx.UpdateUser(ctx, &u)
		}, false},
		{"contact email, other case", a, func(tx sb.Tx) error {
			return tx.CreateContact(ctx, &sb.Contact{AccountID: a, Email: "A-CONTACT@example.com"})
		}, false},
		{"contact email in another account", b, func(tx sb.Tx) error {
			return tx.CreateContact(ctx, &sb.Contact{AccountID: b, Email: wa.contact.Email})
		}, true},
		{"UpdateContact to a taken email", a, func(tx sb.Tx) error {
			c := &sb.Contact{AccountID: a, Email: "other@example.com"}
			must(t, "CreateContact", tx.CreateContact(ctx, c))
			c.Email = wa.contact.Email
			return tx.UpdateContact(ctx, c)
		}, false},
		{"visitor token", a, func(tx sb.Tx) error {
			return tx.CreateContact(ctx, &sb.Contact{AccountID: a, VisitorToken: wa.contact.VisitorToken})
		}, false},
		{"visitor token in another account", b, func(tx sb.Tx) error {
			return tx.CreateContact(ctx, &sb.Contact{AccountID: b, VisitorToken: wa.contact.VisitorToken})
		}, true},
		{"contacts without email or token", a, func(tx sb.Tx) error {
			return errors.Join(tx.CreateContact(ctx, &sb.Contact{AccountID: a}), tx.CreateContact(ctx, &sb.Contact{AccountID: a}))
		}, true},
		{"message external id, same channel", a, func(tx sb.Tx) error {
			m := *wa.message
			m.ID = ""
			return tx.CreateMessage(ctx, &m)
		}, false},
		{"message external id, other channel", a, func(tx sb.Tx) error {
			m := *wa.message
			m.ID, m.ChannelID = "", "other-channel"
			return tx.CreateMessage(ctx, &m)
		}, true},
		{"messages without external id", a, func(tx sb.Tx) error {
			m := *wa.message
			m.ID, m.ExternalID = "", ""
			n := m
			return errors.Join(tx.CreateMessage(ctx, &m), tx.CreateMessage(ctx, &n))
		}, true},
		{"token hash", b, func(tx sb.Tx) error {
			return tx.CreateToken(ctx, &sb.Token{AccountID: b, UserID: wb.user.ID, Hash: wa.token.Hash})
		}, false},
		{"team id", a, func(tx sb.Tx) error {
			return tx.CreateTeam(ctx, &sb.Team{ID: wa.team.ID, AccountID: a})
		}, false},
	}
	for _, c := range cases {
		err := f.s.Update(ctx, c.account, c.fn)
		if c.ok {
			if err != nil {
				t.Errorf("%s: %v, want no conflict", c.name, err)
			}
			continue
		}
		wantKind(t, c.name, err, sb.Conflict)
	}
}

var errBoom = errors.New("boom")

// testRollback: when fn fails, panics, or ignores a failed statement,
// nothing it wrote stays and none of its events is published.
func testRollback(t *testing.T, f *fixture) {
	w := f.world("a")
	a := w.account.ID
	ctx := f.ctx
	sub := f.s.Subscribe(ctx, a)
	var teamIDs []string
	write := func(tx sb.Tx) {
		tm := &sb.Team{AccountID: a, Name: "doomed"}
		must(t, "CreateTeam", tx.CreateTeam(ctx, tm))
		teamIDs = append(teamIDs, tm.ID)
		must(t, "AppendEvent", tx.AppendEvent(ctx, &sb.Event{AccountID: a, Type: "doomed"}))
	}

	err := f.s.Update(ctx, a, func(tx sb.Tx) error { write(tx); return errBoom })
	if !errors.Is(err, errBoom) {
		t.Errorf("Update returned %v, want fn's error", err)
	}
	func() {
		defer func() {
			if p := recover(); p != errBoom {
				t.Errorf("recovered %v, want fn's panic", p)
			}
		}()
		f.s.Update(ctx, a, func(tx sb.Tx) error { write(tx); panic(errBoom) })
	}()
	err = f.s.Update(ctx, a, func(tx sb.Tx) error {
		write(tx)
		_ = tx.CreateUser(ctx, &sb.User{AccountID: a, Email: w.user.Email}) // Conflict, ignored
		return nil
	})
	wantKind(t, "Update after a failed statement fn ignored", err, sb.Conflict)

	// A committed event: the first one the subscriber may see.
	ok := &sb.Event{AccountID: a, Type: "committed"}
	f.update(a, func(tx sb.Tx) error { return tx.AppendEvent(ctx, ok) })
	f.view(func(tx sb.Tx) error {
		for _, id := range teamIDs {
			_, err := tx.Team(ctx, a, id)
			wantKind(t, "Team written by a rolled-back Update", err, sb.NotFound)
		}
		events, err := tx.EventsSince(ctx, a, w.event.ID, 100)
		must(t, "EventsSince", err)
		diff(t, "events after the rollbacks", []int64{ok.ID}, idsOfEvents(events))
		return nil
	})
	if e := receive(t, sub, w.event.ID); e.ID != ok.ID || e.Type != "committed" {
		t.Errorf("subscriber got %+v first, want the committed event %d", e, ok.ID)
	}
}
