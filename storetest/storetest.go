// Package storetest is the conformance suite every switchboard.Store
// passes. A store's tests call Run with a function that opens a fresh,
// empty store; sqlstore runs it against SQLite always and against
// PostgreSQL when a server is reachable.
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	sb "github.com/switchboard-dev/switchboard"
)

// Run runs the suite. open must return a new, empty, migrated store for
// the test it is given (each subtest opens its own, in parallel) and
// arrange for it to be closed when that test ends.
func Run(t *testing.T, open func(t *testing.T) sb.Store) {
	tests := []namedTest{
		{"RoundTrip/Account", testAccountRoundTrip},
		{"RoundTrip/User", testUserRoundTrip},
		{"RoundTrip/Token", testTokenRoundTrip},
		{"RoundTrip/TeamAndInbox", testTeamInboxRoundTrip},
		{"RoundTrip/Channel", testChannelRoundTrip},
		{"RoundTrip/Contact", testContactRoundTrip},
		{"RoundTrip/Conversation", testConversationRoundTrip},
		{"RoundTrip/MessageAndDecision", testMessageDecisionRoundTrip},
		{"NotFound", testNotFound},
		{"AccountIsolation", testAccountIsolation},
		{"Conflict", testConflict},
		{"Rollback", testRollback},
		{"Conversations/Filter", testConversationFilter},
		{"Conversations/CursorPaging", testConversationPaging},
		{"Conversations/Waiting", testWaitingConversations},
		{"Conversations/Latest", testLatestConversation},
		{"Users/LoadAndTouch", testLoadAndTouch},
		{"Events/Since", testEventsSince},
		{"Events/Subscribe", testSubscribe},
		{"Events/SlowSubscriber", testSlowSubscriber},
		{"Events/CredentialsChanged", testCredentialsChanged},
		{"Update/SerialisedPerAccount", testSerialised},
		{"Routing", testRouting},
	}
	for _, more := range [][]namedTest{bulkTests, jobTests, webTests, ticketTests, channelKeysTests, emailTests} {
		tests = append(tests, more...)
	}
	run(t, open, tests)
}

// namedTest is a test of the suite.
type namedTest struct {
	name string
	fn   func(t *testing.T, f *fixture)
}

// run runs tests in parallel, each on a store of its own.
func run(t *testing.T, open func(t *testing.T) sb.Store, tests []namedTest) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, &fixture{t: t, s: open(t), ctx: t.Context()})
		})
	}
}

// base is the suite's clock. It has nanoseconds on purpose: stores keep
// microseconds.
var base = time.Date(2026, 3, 2, 10, 0, 0, 123456789, time.UTC)

// at returns base plus i minutes.
func at(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }

// zeroTime is the zero time.Time, for arguments meaning "none".
var zeroTime time.Time

// us truncates to what a store keeps: microseconds.
func us(t time.Time) time.Time { return t.Truncate(time.Microsecond) }

// fixture holds one test's store and builds rows in it.
type fixture struct {
	t   *testing.T
	s   sb.Store
	ctx context.Context
}

// update runs fn in an Update and fails the test on error.
func (f *fixture) update(accountID string, fn func(tx sb.Tx) error) {
	f.t.Helper()
	if err := f.s.Update(f.ctx, accountID, fn); err != nil {
		f.t.Fatalf("Update(%q): %v", accountID, err)
	}
}

// view runs fn in a View and fails the test on error.
func (f *fixture) view(fn func(tx sb.Tx) error) {
	f.t.Helper()
	if err := f.s.View(f.ctx, fn); err != nil {
		f.t.Fatalf("View: %v", err)
	}
}

func (f *fixture) account(name string) *sb.Account {
	f.t.Helper()
	a := &sb.Account{Name: name, TimeZone: "Europe/Paris", CreatedAt: base}
	f.update("", func(tx sb.Tx) error { return tx.CreateAccount(f.ctx, a) })
	return a
}

func (f *fixture) user(accountID, email string, mods ...func(*sb.User)) *sb.User {
	f.t.Helper()
	u := &sb.User{AccountID: accountID, Email: email, Name: email, Role: sb.RoleAgent,
		PaidSeat: true, Status: sb.Available, CreatedAt: base}
	for _, m := range mods {
		m(u)
	}
	f.update(accountID, func(tx sb.Tx) error { return tx.CreateUser(f.ctx, u) })
	return u
}

func (f *fixture) team(accountID, name string, main ...string) *sb.Team {
	f.t.Helper()
	tm := &sb.Team{AccountID: accountID, Name: name, MainMemberIDs: main, CreatedAt: base}
	f.update(accountID, func(tx sb.Tx) error { return tx.CreateTeam(f.ctx, tm) })
	return tm
}

func (f *fixture) inbox(accountID, name string) *sb.Inbox {
	f.t.Helper()
	in := &sb.Inbox{AccountID: accountID, Name: name, CreatedAt: base}
	f.update(accountID, func(tx sb.Tx) error { return tx.CreateInbox(f.ctx, in) })
	return in
}

func (f *fixture) channel(accountID, inboxID string, kind sb.ChannelKind) *sb.Channel {
	f.t.Helper()
	c := &sb.Channel{AccountID: accountID, InboxID: inboxID, Kind: kind, Name: string(kind),
		Config: []byte(`{}`), Routing: sb.RoutingRule{Mode: sb.ModeUnassigned}, CreatedAt: base}
	f.update(accountID, func(tx sb.Tx) error { return tx.CreateChannel(f.ctx, c) })
	return c
}

func (f *fixture) contact(accountID, email string) *sb.Contact {
	f.t.Helper()
	c := &sb.Contact{AccountID: accountID, Email: email, Name: email, CreatedAt: base}
	f.update(accountID, func(tx sb.Tx) error { return tx.CreateContact(f.ctx, c) })
	return c
}

// conversation creates an open conversation of ct on ch, created and last
// active at base, changed by mods.
func (f *fixture) conversation(ch *sb.Channel, ct *sb.Contact, mods ...func(*sb.Conversation)) *sb.Conversation {
	f.t.Helper()
	c := &sb.Conversation{AccountID: ch.AccountID, InboxID: ch.InboxID, ChannelID: ch.ID,
		ChannelKind: ch.Kind, ContactID: ct.ID, Status: sb.StatusOpen, CreatedAt: base,
		LastActivityAt: base}
	for _, m := range mods {
		m(c)
	}
	f.update(c.AccountID, func(tx sb.Tx) error { return tx.CreateConversation(f.ctx, c) })
	return c
}

// world is one of everything in an account.
type world struct {
	account  *sb.Account
	user     *sb.User
	token    *sb.Token
	team     *sb.Team
	inbox    *sb.Inbox
	channel  *sb.Channel
	contact  *sb.Contact
	conv     *sb.Conversation
	message  *sb.Message
	decision *sb.Decision
	event    *sb.Event
}

// world builds one of everything in a new account named name.
func (f *fixture) world(name string) *world {
	f.t.Helper()
	w := &world{account: f.account(name)}
	a := w.account.ID
	w.user = f.user(a, name+"-agent@example.com")
	w.team = f.team(a, name+" team", w.user.ID)
	w.inbox = f.inbox(a, name+" inbox")
	w.channel = f.channel(a, w.inbox.ID, sb.KindChat)
	w.contact = f.contact(a, name+"-contact@example.com")
	f.update(a, func(tx sb.Tx) error {
		w.contact.VisitorToken, w.contact.Phone = name+"-visitor", "+1555"+name
		return tx.UpdateContact(f.ctx, w.contact)
	})
	w.conv = f.conversation(w.channel, w.contact, func(c *sb.Conversation) { c.AssigneeID = w.user.ID })
	f.update(a, func(tx sb.Tx) error {
		w.token = &sb.Token{AccountID: a, UserID: w.user.ID, Hash: name + "-hash", Name: "cli", CreatedAt: base}
		w.message = &sb.Message{AccountID: a, ConversationID: w.conv.ID, ChannelID: w.channel.ID,
			Direction: sb.DirectionIn, ContactID: w.contact.ID, Body: "hi", ExternalID: name + "-ext", CreatedAt: base}
		w.decision = &sb.Decision{AccountID: a, ConversationID: w.conv.ID, Trigger: sb.TriggerCreated,
			Outcome: sb.OutcomeAssigned, AssigneeID: w.user.ID, CreatedAt: base}
		w.event = &sb.Event{AccountID: a, Type: sb.EventConversationCreated, ConversationID: w.conv.ID, CreatedAt: base}
		return errors.Join(tx.CreateToken(f.ctx, w.token), tx.CreateMessage(f.ctx, w.message),
			tx.CreateDecision(f.ctx, w.decision), tx.AppendEvent(f.ctx, w.event))
	})
	return w
}

// wantKind fails the test unless err is of kind k.
func wantKind(t *testing.T, what string, err error, k sb.Kind) {
	t.Helper()
	if !sb.IsKind(err, k) {
		t.Errorf("%s: got error %v (kind %v), want kind %v", what, err, kindOrNil(err), k)
	}
}

func kindOrNil(err error) any {
	if err == nil {
		return "none"
	}
	return sb.KindOf(err)
}

// diff fails the test if got differs from want.
func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// ids returns the ids of items, via id.
func ids[T any](items []*T, id func(*T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

func convID(c *sb.Conversation) string { return c.ID }

// must fails the test on err.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// getter names a Tx lookup for table tests.
type getter struct {
	name string
	call func(tx sb.Tx) error
}
