package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	sb "github.com/switchboard-dev/switchboard"
)

// testAccountRoundTrip: an empty id is generated (a UUIDv7); times come
// back in UTC, to the microsecond, whatever zone they went in with.
func testAccountRoundTrip(t *testing.T, f *fixture) {
	paris, err := time.LoadLocation("Europe/Paris")
	must(t, "load zone", err)
	in := &sb.Account{Name: "Acme", TimeZone: "Europe/Paris", CreatedAt: base.In(paris)}
	var n0, n1 int
	f.update("", func(tx sb.Tx) error {
		var err error
		if n0, err = tx.CountAccounts(f.ctx); err != nil {
			return err
		}
		if err := tx.CreateAccount(f.ctx, in); err != nil {
			return err
		}
		n1, err = tx.CountAccounts(f.ctx)
		return err
	})
	if n0 != 0 || n1 != 1 {
		t.Errorf("CountAccounts before and after = %d, %d; want 0, 1", n0, n1)
	}
	if u, err := uuid.Parse(in.ID); err != nil || u.Version() != 7 {
		t.Errorf("generated id %q: want a UUIDv7 (%v)", in.ID, err)
	}
	second := &sb.Account{ID: "acct-explicit", Name: "Second", CreatedAt: at(1)}
	f.update("", func(tx sb.Tx) error { return tx.CreateAccount(f.ctx, second) })

	want := *in
	want.CreatedAt = us(base)
	f.view(func(tx sb.Tx) error {
		got, err := tx.Account(f.ctx, in.ID)
		must(t, "Account", err)
		diff(t, "Account", &want, got)
		if got.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt location = %v, want UTC", got.CreatedAt.Location())
		}
		all, err := tx.Accounts(f.ctx)
		must(t, "Accounts", err)
		diff(t, "Accounts ids (oldest first)", []string{in.ID, "acct-explicit"},
			ids(all, func(a *sb.Account) string { return a.ID }))
		return nil
	})
}

func fullUser(accountID string) *sb.User {
	return &sb.User{
		AccountID: accountID, Email: "Ann.Agent@Example.COM", Name: "Ann", Role: sb.RoleAdmin,
		PaidSeat: true, ChatCapacity: 4, ManageAvailability: true, Status: sb.Away,
		StatusSetBy: "someone", ReassignReplies: true,
		WorkingHours: sb.WorkingHours{TimeZone: "Europe/Berlin", Ranges: []sb.HoursRange{
			{Day: time.Monday, Start: 9 * 60, End: 17 * 60}, {Day: time.Saturday, Start: 0, End: 1440}}},
		OutOfOffice:  []sb.DateRange{{From: at(60), To: at(120)}},
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$salt$hash",
		CreatedAt:    at(1), OpenChats: 3, LastActiveAt: at(2), LastChatAssignedAt: at(3),
	}
}

// testUserRoundTrip: every field, the email stored lower-case and found
// case-insensitively; UpdateUser leaves the load fields alone.
func testUserRoundTrip(t *testing.T, f *fixture) {
	a := f.account("a")
	u := fullUser(a.ID)
	f.update(a.ID, func(tx sb.Tx) error { return tx.CreateUser(f.ctx, u) })
	want := *u
	want.Email = "ann.agent@example.com"
	want.CreatedAt, want.LastActiveAt, want.LastChatAssignedAt = us(at(1)), us(at(2)), us(at(3))
	if u.Email != want.Email {
		t.Errorf("CreateUser left Email %q, want it lower-cased to %q", u.Email, want.Email)
	}
	f.view(func(tx sb.Tx) error {
		got, err := tx.User(f.ctx, a.ID, u.ID)
		must(t, "User", err)
		diff(t, "User", &want, got)
		got, err = tx.UserByEmail(f.ctx, "ANN.agent@example.com")
		must(t, "UserByEmail", err)
		diff(t, "UserByEmail", &want, got)
		all, err := tx.Users(f.ctx, a.ID)
		must(t, "Users", err)
		diff(t, "Users", []*sb.User{&want}, all)
		return nil
	})

	upd := *u
	upd.Email, upd.Name, upd.Role, upd.PaidSeat, upd.ChatCapacity = "New@Example.com", "Ann B", sb.RoleAgent, false, 0
	upd.ManageAvailability, upd.Status, upd.StatusSetBy, upd.ReassignReplies = false, sb.Available, "", false
	upd.WorkingHours, upd.OutOfOffice, upd.PasswordHash = sb.WorkingHours{}, nil, "other"
	upd.OpenChats, upd.LastActiveAt, upd.LastChatAssignedAt, upd.CreatedAt = 99, at(50), at(51), at(52)
	f.update(a.ID, func(tx sb.Tx) error { return tx.UpdateUser(f.ctx, &upd) })
	want2 := upd
	want2.Email = "new@example.com"
	want2.OpenChats, want2.LastActiveAt, want2.LastChatAssignedAt, want2.CreatedAt = 3, us(at(2)), us(at(3)), us(at(1))
	f.view(func(tx sb.Tx) error {
		got, err := tx.User(f.ctx, a.ID, u.ID)
		must(t, "User after UpdateUser", err)
		diff(t, "User after UpdateUser (load fields and CreatedAt unchanged)", &want2, got)
		_, err = tx.UserByEmail(f.ctx, "ann.agent@example.com")
		wantKind(t, "UserByEmail(old email)", err, sb.NotFound)
		return nil
	})
}

func testTokenRoundTrip(t *testing.T, f *fixture) {
	a := f.account("a")
	u := f.user(a.ID, "u@example.com")
	tok := &sb.Token{AccountID: a.ID, UserID: u.ID, Hash: "sha256:abc", Name: "laptop", CreatedAt: at(5)}
	f.update(a.ID, func(tx sb.Tx) error { return tx.CreateToken(f.ctx, tok) })
	want := *tok
	want.CreatedAt = us(at(5))
	f.view(func(tx sb.Tx) error {
		got, err := tx.TokenByHash(f.ctx, "sha256:abc")
		must(t, "TokenByHash", err)
		diff(t, "Token", &want, got)
		return nil
	})

	// Integration tokens: listed by scope, deleted by id within it.
	integ := &sb.Token{AccountID: a.ID, UserID: u.ID, Hash: "sha256:int", Name: "shop", Scope: sb.TokenIntegration, CreatedAt: at(6)}
	other := f.account("b")
	f.update(a.ID, func(tx sb.Tx) error { return tx.CreateToken(f.ctx, integ) })
	f.update(a.ID, func(tx sb.Tx) error {
		ts, err := tx.TokensByScope(f.ctx, a.ID, sb.TokenIntegration)
		must(t, "TokensByScope", err)
		if len(ts) != 1 || ts[0].ID != integ.ID || ts[0].Scope != sb.TokenIntegration {
			t.Errorf("TokensByScope = %+v, want only the integration token", ts)
		}
		if err := tx.DeleteTokenByID(f.ctx, a.ID, tok.ID, sb.TokenIntegration); !sb.IsKind(err, sb.NotFound) {
			t.Errorf("deleting a person's token as an integration token: err = %v, want NotFound", err)
		}
		if err := tx.DeleteTokenByID(f.ctx, other.ID, integ.ID, sb.TokenIntegration); !sb.IsKind(err, sb.NotFound) {
			t.Errorf("deleting from another account: err = %v, want NotFound", err)
		}
		must(t, "DeleteTokenByID", tx.DeleteTokenByID(f.ctx, a.ID, integ.ID, sb.TokenIntegration))
		if _, err := tx.TokenByHash(f.ctx, "sha256:int"); !sb.IsKind(err, sb.NotFound) {
			t.Errorf("deleted token still found: %v", err)
		}
		return nil
	})
}

// testTeamInboxRoundTrip: nil and empty id lists stay apart; DeleteTeam
// deletes.
func testTeamInboxRoundTrip(t *testing.T, f *fixture) {
	a := f.account("a")
	tm := &sb.Team{AccountID: a.ID, Name: "Sales", MainMemberIDs: []string{"u1", "u2"}, ExtraMemberIDs: []string{}, CreatedAt: at(1)}
	tm2 := &sb.Team{ID: "team-2", AccountID: a.ID, Name: "Support", CreatedAt: at(2)}
	in := &sb.Inbox{AccountID: a.ID, Name: "Main", TeamIDs: []string{"t1"}, CreatedAt: at(3)}
	in2 := &sb.Inbox{AccountID: a.ID, Name: "Open", CreatedAt: at(4)}
	f.update(a.ID, func(tx sb.Tx) error {
		for _, x := range []*sb.Team{tm, tm2} {
			if err := tx.CreateTeam(f.ctx, x); err != nil {
				return err
			}
		}
		for _, x := range []*sb.Inbox{in, in2} {
			if err := tx.CreateInbox(f.ctx, x); err != nil {
				return err
			}
		}
		return nil
	})
	if tm2.ID != "team-2" {
		t.Errorf("CreateTeam replaced the given id with %q", tm2.ID)
	}
	wtm, wtm2, win, win2 := *tm, *tm2, *in, *in2
	wtm.CreatedAt, wtm2.CreatedAt, win.CreatedAt, win2.CreatedAt = us(at(1)), us(at(2)), us(at(3)), us(at(4))
	f.view(func(tx sb.Tx) error {
		got, err := tx.Team(f.ctx, a.ID, tm.ID)
		must(t, "Team", err)
		diff(t, "Team", &wtm, got)
		teams, err := tx.Teams(f.ctx, a.ID)
		must(t, "Teams", err)
		diff(t, "Teams", []*sb.Team{&wtm, &wtm2}, teams)
		gin, err := tx.Inbox(f.ctx, a.ID, in.ID)
		must(t, "Inbox", err)
		diff(t, "Inbox", &win, gin)
		inboxes, err := tx.Inboxes(f.ctx, a.ID)
		must(t, "Inboxes", err)
		diff(t, "Inboxes", []*sb.Inbox{&win, &win2}, inboxes)
		return nil
	})

	wtm.Name, wtm.MainMemberIDs, wtm.ExtraMemberIDs = "Sales EU", []string{"u3"}, []string{"u1"}
	win.Name, win.TeamIDs = "Main desk", nil
	f.update(a.ID, func(tx sb.Tx) error {
		must(t, "UpdateTeam", tx.UpdateTeam(f.ctx, &wtm))
		must(t, "UpdateInbox", tx.UpdateInbox(f.ctx, &win))
		return tx.DeleteTeam(f.ctx, a.ID, tm2.ID)
	})
	f.view(func(tx sb.Tx) error {
		got, err := tx.Team(f.ctx, a.ID, tm.ID)
		must(t, "Team", err)
		diff(t, "Team after UpdateTeam", &wtm, got)
		gin, err := tx.Inbox(f.ctx, a.ID, in.ID)
		must(t, "Inbox", err)
		diff(t, "Inbox after UpdateInbox", &win, gin)
		_, err = tx.Team(f.ctx, a.ID, tm2.ID)
		wantKind(t, "Team after DeleteTeam", err, sb.NotFound)
		return nil
	})
}

// testChannelRoundTrip: Config comes back byte for byte; the rule and the
// ticket settings whole; Channels filters by inbox; DeleteChannel deletes.
func testChannelRoundTrip(t *testing.T, f *fixture) {
	a := f.account("a")
	in1, in2 := f.inbox(a.ID, "one"), f.inbox(a.ID, "two")
	no := false
	c := &sb.Channel{AccountID: a.ID, InboxID: in1.ID, Kind: sb.KindEmail, Name: "Support mail",
		Config: json.RawMessage(`{"address": "help@example.com",  "signature":"<b>x</b>"}`),
		Routing: sb.RoutingRule{Enabled: true, Mode: sb.ModeContactOwner, UserIDs: []string{"u1"},
			TeamIDs: []string{}, OnlyAvailable: &no, AtCapacity: sb.AtCapacityWaitingMessage,
			Fallback: sb.Fallback{Mode: sb.FallbackSpecific, UserID: "u9", UserIDs: []string{"u2"}, TeamIDs: []string{"t1"}}},
		Tickets:   sb.TicketSettings{Enabled: true, Pipeline: "p", Stage: "s"},
		CreatedAt: at(1)}
	c2 := &sb.Channel{AccountID: a.ID, InboxID: in2.ID, Kind: sb.KindChat, Name: "Widget", CreatedAt: at(2)}
	f.update(a.ID, func(tx sb.Tx) error {
		must(t, "CreateChannel", tx.CreateChannel(f.ctx, c))
		return tx.CreateChannel(f.ctx, c2)
	})
	want, want2 := *c, *c2
	want.CreatedAt, want2.CreatedAt = us(at(1)), us(at(2))
	f.view(func(tx sb.Tx) error {
		got, err := tx.Channel(f.ctx, a.ID, c.ID)
		must(t, "Channel", err)
		diff(t, "Channel", &want, got)
		if string(got.Config) != string(c.Config) {
			t.Errorf("Config = %s, want byte for byte %s", got.Config, c.Config)
		}
		got, err = tx.ChannelByID(f.ctx, c2.ID)
		must(t, "ChannelByID", err)
		diff(t, "ChannelByID (nil Config)", &want2, got)
		all, err := tx.Channels(f.ctx, a.ID, "")
		must(t, "Channels", err)
		diff(t, "Channels", []*sb.Channel{&want, &want2}, all)
		of2, err := tx.Channels(f.ctx, a.ID, in2.ID)
		must(t, "Channels(inbox)", err)
		diff(t, "Channels(inbox two)", []*sb.Channel{&want2}, of2)
		return nil
	})

	want.InboxID, want.Name, want.Config = in2.ID, "Mail", json.RawMessage(`[1, 2]`)
	want.Routing, want.Tickets = sb.RoutingRule{Mode: sb.ModeUnassigned}, sb.TicketSettings{}
	f.update(a.ID, func(tx sb.Tx) error {
		must(t, "UpdateChannel", tx.UpdateChannel(f.ctx, &want))
		return tx.DeleteChannel(f.ctx, a.ID, c2.ID)
	})
	f.view(func(tx sb.Tx) error {
		got, err := tx.Channel(f.ctx, a.ID, c.ID)
		must(t, "Channel", err)
		diff(t, "Channel after UpdateChannel", &want, got)
		_, err = tx.ChannelByID(f.ctx, c2.ID)
		wantKind(t, "ChannelByID after DeleteChannel", err, sb.NotFound)
		return nil
	})
}

// testContactRoundTrip: lookups by email (case-insensitive), visitor
// token and phone; Contacts pages by id.
func testContactRoundTrip(t *testing.T, f *fixture) {
	a := f.account("a")
	c := &sb.Contact{ID: "contact-b", AccountID: a.ID, Email: "Bob@Example.com", Name: "Bob", Phone: "+33123",
		OwnerID: "u1", VisitorToken: "vt-1", CreatedAt: at(1)}
	others := []*sb.Contact{
		{ID: "contact-a", AccountID: a.ID, Name: "no email", CreatedAt: at(2)},
		{ID: "contact-c", AccountID: a.ID, Phone: "+33123", CreatedAt: at(3)}, // same phone, newer
	}
	f.update(a.ID, func(tx sb.Tx) error {
		must(t, "CreateContact", tx.CreateContact(f.ctx, c))
		for _, o := range others {
			must(t, "CreateContact", tx.CreateContact(f.ctx, o))
		}
		return nil
	})
	want := *c
	want.Email, want.CreatedAt = "bob@example.com", us(at(1))
	f.view(func(tx sb.Tx) error {
		for _, g := range []struct {
			name string
			get  func() (*sb.Contact, error)
		}{
			{"Contact", func() (*sb.Contact, error) { return tx.Contact(f.ctx, a.ID, c.ID) }},
			{"ContactByEmail", func() (*sb.Contact, error) { return tx.ContactByEmail(f.ctx, a.ID, "BOB@example.COM") }},
			{"ContactByVisitorToken", func() (*sb.Contact, error) { return tx.ContactByVisitorToken(f.ctx, a.ID, "vt-1") }},
			{"ContactByPhone (oldest of two)", func() (*sb.Contact, error) { return tx.ContactByPhone(f.ctx, a.ID, "+33123") }},
		} {
			got, err := g.get()
			must(t, g.name, err)
			diff(t, g.name, &want, got)
		}
		page1, err := tx.Contacts(f.ctx, a.ID, "", 2)
		must(t, "Contacts", err)
		page2, err := tx.Contacts(f.ctx, a.ID, "contact-b", 2)
		must(t, "Contacts after", err)
		cid := func(c *sb.Contact) string { return c.ID }
		diff(t, "Contacts page 1", []string{"contact-a", "contact-b"}, ids(page1, cid))
		diff(t, "Contacts page 2", []string{"contact-c"}, ids(page2, cid))
		return nil
	})

	want.Email, want.Name, want.Phone, want.OwnerID, want.VisitorToken = "", "Robert", "", "", "vt-2"
	f.update(a.ID, func(tx sb.Tx) error { return tx.UpdateContact(f.ctx, &want) })
	f.view(func(tx sb.Tx) error {
		got, err := tx.Contact(f.ctx, a.ID, c.ID)
		must(t, "Contact", err)
		diff(t, "Contact after UpdateContact", &want, got)
		_, err = tx.ContactByVisitorToken(f.ctx, a.ID, "vt-1")
		wantKind(t, "ContactByVisitorToken(old token)", err, sb.NotFound)
		return nil
	})
}

func testConversationRoundTrip(t *testing.T, f *fixture) {
	a := f.account("a")
	in := f.inbox(a.ID, "in")
	ch := f.channel(a.ID, in.ID, sb.KindWhatsApp)
	ct := f.contact(a.ID, "c@example.com")
	c := &sb.Conversation{AccountID: a.ID, InboxID: in.ID, ChannelID: ch.ID, ChannelKind: sb.KindWhatsApp,
		ContactID: ct.ID, Status: sb.StatusClosed, AssigneeID: "u1", TeamID: "t1", TicketID: "tk1",
		Waiting: true, Subject: "Order #42", Preview: "Where is…", CreatedAt: at(1),
		LastActivityAt: at(2), ClosedAt: at(3)}
	f.update(a.ID, func(tx sb.Tx) error { return tx.CreateConversation(f.ctx, c) })
	want := *c
	want.CreatedAt, want.LastActivityAt, want.ClosedAt = us(at(1)), us(at(2)), us(at(3))
	f.view(func(tx sb.Tx) error {
		got, err := tx.Conversation(f.ctx, a.ID, c.ID)
		must(t, "Conversation", err)
		diff(t, "Conversation", &want, got)
		return nil
	})

	upd := want
	upd.Status, upd.AssigneeID, upd.TeamID, upd.TicketID, upd.Waiting = sb.StatusOpen, "", "", "", false
	upd.Subject, upd.Preview, upd.LastActivityAt, upd.ClosedAt = "Re: Order", "thanks", at(9), time.Time{}
	upd.InboxID, upd.ContactID, upd.CreatedAt = "ignored", "ignored", at(99) // not written
	f.update(a.ID, func(tx sb.Tx) error { return tx.UpdateConversation(f.ctx, &upd) })
	want2 := upd
	want2.InboxID, want2.ContactID, want2.CreatedAt, want2.LastActivityAt = in.ID, ct.ID, us(at(1)), us(at(9))
	f.view(func(tx sb.Tx) error {
		got, err := tx.Conversation(f.ctx, a.ID, c.ID)
		must(t, "Conversation", err)
		diff(t, "Conversation after UpdateConversation", &want2, got)
		if !got.ClosedAt.IsZero() {
			t.Errorf("ClosedAt = %v, want the zero time back", got.ClosedAt)
		}
		return nil
	})
}

// testMessageDecisionRoundTrip: threads and decision records come back
// oldest first, every field whole.
func testMessageDecisionRoundTrip(t *testing.T, f *fixture) {
	a := f.account("a")
	in := f.inbox(a.ID, "in")
	ch := f.channel(a.ID, in.ID, sb.KindEmail)
	ct := f.contact(a.ID, "c@example.com")
	conv := f.conversation(ch, ct)
	m2 := &sb.Message{AccountID: a.ID, ConversationID: conv.ID, ChannelID: ch.ID, Direction: sb.DirectionOut,
		AuthorUserID: "u1", Body: "Hello\nBob", CreatedAt: at(2)}
	m1 := &sb.Message{AccountID: a.ID, ConversationID: conv.ID, ChannelID: ch.ID, Direction: sb.DirectionIn,
		ContactID: ct.ID, Body: "Hi ✓", ExternalID: "<msg-1@example.com>", CreatedAt: at(1),
		Meta: json.RawMessage(`{"headers":{"subject":"Hi"},"attachments":[]}`)}
	d2 := &sb.Decision{AccountID: a.ID, ConversationID: conv.ID, Trigger: sb.TriggerManual, Mode: sb.ModeSpecific,
		Strategy: "manual", Outcome: sb.OutcomeAssigned, AssigneeID: "u2", ActorUserID: "u9", CreatedAt: at(2)}
	d1 := &sb.Decision{AccountID: a.ID, ConversationID: conv.ID, Trigger: sb.TriggerCreated, Mode: sb.ModeSpecific,
		Strategy: "least_busy", Outcome: sb.OutcomeAssigned, AssigneeID: "u1",
		Reason: "least busy: 2 open chats", TieBreak: "recently_active", NotifyOwner: true, UsedFallback: true,
		Candidates: []sb.Candidate{
			// Candidate times, like every stored time, keep microseconds.
			{UserID: "u1", Via: "team:t1", Status: sb.Available, Load: 2, Capacity: 5, LastActiveAt: at(-1).Truncate(time.Microsecond), LastAssigned: at(-2).Truncate(time.Microsecond)},
			{UserID: "u2", Via: "user", Status: sb.Away, StatusReason: string(sb.ReasonWorkingHours), Dropped: sb.DropAway},
		},
		CreatedAt: at(1)}
	f.update(a.ID, func(tx sb.Tx) error {
		for _, m := range []*sb.Message{m2, m1} {
			must(t, "CreateMessage", tx.CreateMessage(f.ctx, m))
		}
		for _, d := range []*sb.Decision{d2, d1} {
			must(t, "CreateDecision", tx.CreateDecision(f.ctx, d))
		}
		return nil
	})
	wm1, wm2, wd1, wd2 := *m1, *m2, *d1, *d2
	wm1.CreatedAt, wm2.CreatedAt, wd1.CreatedAt, wd2.CreatedAt = us(at(1)), us(at(2)), us(at(1)), us(at(2))
	f.view(func(tx sb.Tx) error {
		msgs, err := tx.Messages(f.ctx, a.ID, conv.ID)
		must(t, "Messages", err)
		diff(t, "Messages (oldest first)", []*sb.Message{&wm1, &wm2}, msgs)
		got, err := tx.MessageByExternalID(f.ctx, a.ID, ch.ID, "<msg-1@example.com>")
		must(t, "MessageByExternalID", err)
		diff(t, "MessageByExternalID", &wm1, got)
		ds, err := tx.Decisions(f.ctx, a.ID, conv.ID)
		must(t, "Decisions", err)
		diff(t, "Decisions (oldest first)", []*sb.Decision{&wd1, &wd2}, ds)
		return nil
	})
}
