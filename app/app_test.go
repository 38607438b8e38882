package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/internal/pgtest"
	"github.com/switchboard-dev/switchboard/sqlstore"
)

// env is a running Service over a real database with an admin.
type env struct {
	t     *testing.T
	ctx   context.Context
	svc   *app.Service
	store sb.Store
	admin app.Actor
	clock *clock
	dsn   string
}

// clock is a controllable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// forEachDB runs fn against SQLite and PostgreSQL.
func forEachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "app.db")))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, newEnv(t, pgtest.DSN(t)))
	})
}

func newEnv(t *testing.T, dsn string) *env {
	return newEnvWith(t, dsn, nil)
}

// newEnvWith is newEnv with a hook that may change the config and register
// handlers between New and Start.
func newEnvWith(t *testing.T, dsn string, hook func(cfg *app.Config, start func() *app.Service)) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	clk := &clock{now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)} // a Monday
	cfg := app.Config{Store: st, Now: clk.Now, Seed: 7, PasswordParams: &app.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}}
	var svc *app.Service
	build := func() *app.Service { svc = app.New(cfg); return svc }
	if hook != nil {
		hook(&cfg, build)
	}
	if svc == nil {
		build()
	}
	svc.Start(ctx)
	t.Cleanup(func() { svc.Close(); st.Close() })
	res, err := svc.Setup(ctx, app.SetupInput{AccountName: "Acme", TimeZone: "Europe/Amsterdam", AdminEmail: "admin@acme.test", AdminName: "Ada Admin", Password: "correct horse"})
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	admin, err := svc.Authenticate(ctx, res.Token)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return &env{t: t, ctx: ctx, svc: svc, store: st, admin: admin, clock: clk, dsn: dsn}
}

// must(v, err)(t) returns v, failing t if err is not nil.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// agent creates a seated available agent and returns their actor.
func (e *env) agent(name string, capacity int) app.Actor {
	e.t.Helper()
	u := must(e.svc.CreateUser(e.ctx, e.admin, app.UserInput{Email: name + "@acme.test", Name: name, Role: sb.RoleAgent, PaidSeat: true, ChatCapacity: capacity, Password: "password " + name}))(e.t)
	return app.Actor{AccountID: u.AccountID, UserID: u.ID, Role: u.Role}
}

// chatChannel makes an inbox and a chat channel routing least busy to users.
func (e *env) channel(kind sb.ChannelKind, rule sb.RoutingRule) *app.ChannelView {
	e.t.Helper()
	return must(e.svc.CreateChannel(e.ctx, e.admin, "", app.ChannelInput{Kind: kind, Name: string(kind) + " channel", Routing: &rule, NewInbox: &app.InboxInput{Name: "Inbox " + string(kind)}}))(e.t)
}

func (e *env) inbound(ch string, email, body string) *app.InboundResult {
	e.t.Helper()
	return must(e.svc.Inbound(e.ctx, e.admin, ch, app.InboundInput{Contact: app.InboundContact{Email: email}, Body: body}))(e.t)
}

func specific(users ...app.Actor) sb.RoutingRule {
	r := sb.RoutingRule{Enabled: true, Mode: sb.ModeSpecific}
	for _, u := range users {
		r.UserIDs = append(r.UserIDs, u.UserID)
	}
	return r
}

func TestReplyAssignsUnassigned(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann := e.agent("ann", 0)
		ch := e.channel(sb.KindEmail, sb.RoutingRule{})
		r := e.inbound(ch.ID, "c@x.test", "hello")
		if r.Conversation.AssigneeID != "" {
			t.Fatalf("R-M1: routing off must leave it unassigned, got %q", r.Conversation.AssigneeID)
		}
		note := must(e.svc.Reply(e.ctx, ann, r.Conversation.ID, app.ReplyInput{Body: "internal", Internal: true}))(t)
		if note.Conversation.AssigneeID != "" {
			t.Fatalf("R-M3: an internal note must not assign, got %q", note.Conversation.AssigneeID)
		}
		rep := must(e.svc.Reply(e.ctx, ann, r.Conversation.ID, app.ReplyInput{Body: "on it"}))(t)
		if rep.Conversation.AssigneeID != ann.UserID {
			t.Fatalf("R-M3: reply must assign to the replier, got %q", rep.Conversation.AssigneeID)
		}
		got := must(e.svc.GetConversation(e.ctx, e.admin, r.Conversation.ID))(t)
		if got.AssigneeID != ann.UserID {
			t.Fatalf("R-M3: stored assignee %q", got.AssigneeID)
		}
		ds := must(e.svc.RoutingRecord(e.ctx, e.admin, r.Conversation.ID))(t)
		if last := ds[len(ds)-1]; last.Trigger != sb.TriggerReplyAssign || last.AssigneeID != ann.UserID {
			t.Fatalf("R-A12: the reply's assignment must be recorded, got %+v", last)
		}
	})
}

func TestLaterMessagesStayWithAssignee(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann, bob := e.agent("ann", 0), e.agent("bob", 0)
		ch := e.channel(sb.KindChat, specific(ann, bob))
		first := e.inbound(ch.ID, "c@x.test", "hi")
		second := e.inbound(ch.ID, "c@x.test", "still there?")
		if second.Conversation.ID != first.Conversation.ID {
			t.Fatalf("R-A11: a later message must join the open conversation")
		}
		if second.Conversation.AssigneeID != first.Conversation.AssigneeID || second.Decision != nil {
			t.Fatalf("R-A11: routing happens once; got assignee %q decision %v", second.Conversation.AssigneeID, second.Decision)
		}
		ms := must(e.svc.Messages(e.ctx, e.admin, first.Conversation.ID))(t)
		if len(ms) != 2 {
			t.Fatalf("want 2 messages, got %d", len(ms))
		}
	})
}

func TestReassignRepliesWhenAway(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann, bob := e.agent("ann", 0), e.agent("bob", 0)
		ch := e.channel(sb.KindChat, specific(ann, bob))
		first := e.inbound(ch.ID, "c@x.test", "hi")
		owner := first.Conversation.AssigneeID
		if owner == "" {
			t.Fatal("expected an assignee")
		}
		away := app.Actor{AccountID: e.admin.AccountID, UserID: owner, Role: sb.RoleAgent}
		on := true
		must(e.svc.SetStatus(e.ctx, away, "me", app.StatusInput{Status: sb.Away, ReassignReplies: &on}))(t)
		next := e.inbound(ch.ID, "c@x.test", "hello again")
		if next.Conversation.ID != first.Conversation.ID {
			t.Fatal("R-V3: the reply must stay in the same conversation")
		}
		other := bob.UserID
		if owner == bob.UserID {
			other = ann.UserID
		}
		if next.Conversation.AssigneeID != other {
			t.Fatalf("R-V3: away assignee with reassign replies: want %s, got %s", other, next.Conversation.AssigneeID)
		}
		if next.Decision == nil || next.Decision.Trigger != sb.TriggerReassignReplies {
			t.Fatalf("R-V3: the re-route must be recorded, got %+v", next.Decision)
		}
		users := must(e.svc.ListUsers(e.ctx, e.admin))(t)
		for _, u := range users {
			want := 0
			if u.ID == other {
				want = 1
			}
			if (u.ID == ann.UserID || u.ID == bob.UserID) && u.OpenChats != want {
				t.Fatalf("load of %s: want %d, got %d", u.Name, want, u.OpenChats)
			}
		}
	})
}

func TestReassignRepliesOffKeepsAssignee(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann, bob := e.agent("ann", 0), e.agent("bob", 0)
		ch := e.channel(sb.KindChat, specific(ann, bob))
		first := e.inbound(ch.ID, "c@x.test", "hi")
		owner := app.Actor{AccountID: e.admin.AccountID, UserID: first.Conversation.AssigneeID, Role: sb.RoleAgent}
		must(e.svc.SetStatus(e.ctx, owner, "me", app.StatusInput{Status: sb.Away}))(t)
		next := e.inbound(ch.ID, "c@x.test", "hello again")
		if next.Conversation.AssigneeID != owner.UserID {
			t.Fatalf("R-V3/R-A11: without reassign replies it stays with %s, got %s", owner.UserID, next.Conversation.AssigneeID)
		}
	})
}

func TestReturningContact(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann, bob := e.agent("ann", 0), e.agent("bob", 0)
		ch := e.channel(sb.KindChat, specific(ann, bob))
		// Give bob more load so that fresh routing would pick ann.
		first := e.inbound(ch.ID, "c@x.test", "hi")
		prev := first.Conversation.AssigneeID
		must(e.svc.SetOpen(e.ctx, e.admin, first.Conversation.ID, false))(t)
		// Another contact's chat makes prev the busier one only if they got it.
		back := e.inbound(ch.ID, "c@x.test", "me again")
		if back.Conversation.ID == first.Conversation.ID {
			t.Fatal("R-X4: a closed conversation is not continued; a new one starts")
		}
		if back.Conversation.AssigneeID != prev || back.Decision.Strategy != "previous_assignee" {
			t.Fatalf("R-X4: want previous assignee %s, got %s (%s)", prev, back.Conversation.AssigneeID, back.Decision.Strategy)
		}
		// Previous assignee away: routed afresh.
		must(e.svc.SetOpen(e.ctx, e.admin, back.Conversation.ID, false))(t)
		must(e.svc.SetStatus(e.ctx, app.Actor{AccountID: e.admin.AccountID, UserID: prev, Role: sb.RoleAgent}, "me", app.StatusInput{Status: sb.Away}))(t)
		again := e.inbound(ch.ID, "c@x.test", "third time")
		if again.Conversation.AssigneeID == prev || again.Conversation.AssigneeID == "" {
			t.Fatalf("R-X4: previous assignee away: want fresh routing to the other agent, got %q", again.Conversation.AssigneeID)
		}
	})
}

func TestBacklogDrain(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann := e.agent("ann", 1)
		ch := e.channel(sb.KindChat, specific(ann))
		var convs []*sb.Conversation
		for i := range 3 {
			e.clock.Add(time.Second)
			r := e.inbound(ch.ID, fmt.Sprintf("c%d@x.test", i), "hi")
			convs = append(convs, r.Conversation)
		}
		if convs[0].AssigneeID != ann.UserID || convs[1].AssigneeID != "" || !convs[1].Waiting || convs[2].AssigneeID != "" {
			t.Fatalf("R-A10: capacity 1: want first assigned, others waiting; got %+v %+v %+v", convs[0], convs[1], convs[2])
		}
		r := must(e.svc.RoutingRecord(e.ctx, e.admin, convs[1].ID))(t)
		if r[0].Outcome != sb.OutcomeWaiting {
			t.Fatalf("R-A10: want outcome waiting, got %s", r[0].Outcome)
		}
		must(e.svc.SetOpen(e.ctx, ann, convs[0].ID, false))(t)
		c1 := must(e.svc.GetConversation(e.ctx, e.admin, convs[1].ID))(t)
		c2 := must(e.svc.GetConversation(e.ctx, e.admin, convs[2].ID))(t)
		if c1.AssigneeID != ann.UserID || c1.Waiting {
			t.Fatalf("R-X2: closing frees capacity: the oldest waiting goes to ann at once, got %+v", c1)
		}
		if c2.AssigneeID != "" {
			t.Fatalf("R-X2: never past capacity: the newer one keeps waiting, got %q", c2.AssigneeID)
		}
		// Away then available again with free capacity drains the next one.
		must(e.svc.SetOpen(e.ctx, ann, c1.ID, false))(t)
		c2 = must(e.svc.GetConversation(e.ctx, e.admin, convs[2].ID))(t)
		if c2.AssigneeID != ann.UserID {
			t.Fatalf("R-X2: want the last waiting conversation drained to ann, got %q", c2.AssigneeID)
		}
		ds := must(e.svc.RoutingRecord(e.ctx, e.admin, c2.ID))(t)
		if ds[len(ds)-1].Trigger != sb.TriggerBacklogDrain {
			t.Fatalf("R-A12: the drain must be recorded, got %+v", ds[len(ds)-1])
		}
	})
}

func TestDrainWhenBecomingAvailable(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann := e.agent("ann", 0)
		must(e.svc.SetStatus(e.ctx, ann, "me", app.StatusInput{Status: sb.Away}))(t)
		ch := e.channel(sb.KindChat, specific(ann))
		r := e.inbound(ch.ID, "c@x.test", "anyone?")
		if r.Conversation.AssigneeID != "" || !r.Conversation.Waiting {
			t.Fatalf("R-A7: nobody available: unassigned and waiting, got %+v", r.Conversation)
		}
		must(e.svc.SetStatus(e.ctx, ann, "me", app.StatusInput{Status: sb.Available}))(t)
		c := must(e.svc.GetConversation(e.ctx, e.admin, r.Conversation.ID))(t)
		if c.AssigneeID != ann.UserID {
			t.Fatalf("R-X2: becoming available drains the backlog at once, got %q", c.AssigneeID)
		}
	})
}

func TestContactOwner(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann, bob := e.agent("ann", 0), e.agent("bob", 0)
		rule := sb.RoutingRule{Enabled: true, Mode: sb.ModeContactOwner, Fallback: sb.Fallback{Mode: sb.FallbackUser, UserID: bob.UserID}}
		ch := e.channel(sb.KindEmail, rule)
		must(e.svc.CreateContact(e.ctx, e.admin, app.ContactInput{Email: "known@x.test", OwnerID: ann.UserID}))(t)
		r := e.inbound(ch.ID, "known@x.test", "hello")
		if r.Conversation.AssigneeID != ann.UserID {
			t.Fatalf("R-A8: known contact goes to owner ann, got %q", r.Conversation.AssigneeID)
		}
		n := e.inbound(ch.ID, "new@x.test", "hello")
		if n.Conversation.AssigneeID != bob.UserID || !n.Decision.UsedFallback {
			t.Fatalf("R-A8: new contact uses the fallback user bob, got %q", n.Conversation.AssigneeID)
		}
		// Owner away: still theirs, and notified.
		must(e.svc.SetStatus(e.ctx, ann, "me", app.StatusInput{Status: sb.Away}))(t)
		must(e.svc.SetOpen(e.ctx, e.admin, r.Conversation.ID, false))(t)
		sub, cancel := context.WithCancel(e.ctx)
		defer cancel()
		events := e.store.Subscribe(sub, e.admin.AccountID)
		time.Sleep(50 * time.Millisecond) // let a PostgreSQL listener attach
		again := must(e.svc.Inbound(e.ctx, e.admin, ch.ID, app.InboundInput{Contact: app.InboundContact{Email: "known@x.test"}, Body: "back"}))(t)
		if again.Conversation.AssigneeID != ann.UserID || !again.Decision.NotifyOwner {
			t.Fatalf("R-A8: away owner still gets it and is notified, got %q notify=%v", again.Conversation.AssigneeID, again.Decision.NotifyOwner)
		}
		deadline := time.After(5 * time.Second)
		for {
			select {
			case ev := <-events:
				if ev.Type == sb.EventOwnerNotification && ev.UserID == ann.UserID {
					return
				}
			case <-deadline:
				t.Fatal("R-A8: no owner.notification event")
			}
		}
	})
}

func TestConcurrentArrivalsSpreadEvenly(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		var agents []app.Actor
		for i := range 5 {
			agents = append(agents, e.agent(fmt.Sprintf("agent%d", i), 0))
		}
		ch := e.channel(sb.KindChat, specific(agents...))
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		for i := range 200 {
			wg.Go(func() {
				_, err := e.svc.Inbound(e.ctx, e.admin, ch.ID, app.InboundInput{Contact: app.InboundContact{Email: fmt.Sprintf("c%d@x.test", i)}, Body: "hi", ExternalID: fmt.Sprintf("m%d", i)})
				if err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		users := must(e.svc.ListUsers(e.ctx, e.admin))(t)
		lo, hi := 1<<30, -1
		for _, u := range users {
			if u.Role != sb.RoleAgent {
				continue
			}
			lo, hi = min(lo, u.OpenChats), max(hi, u.OpenChats)
		}
		if hi-lo > 1 || hi != 40 {
			t.Fatalf("R-A9: 200 arrivals over 5 equal agents: loads %d..%d, want 40 each (±1)", lo, hi)
		}
	})
}

func TestInboundIdempotent(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ch := e.channel(sb.KindForm, sb.RoutingRule{})
		var wg sync.WaitGroup
		results := make([]*app.InboundResult, 8)
		for i := range results {
			wg.Go(func() {
				results[i] = must(e.svc.Inbound(e.ctx, e.admin, ch.ID, app.InboundInput{Contact: app.InboundContact{Email: "c@x.test"}, Body: "same", ExternalID: "ext-1"}))(t)
			})
		}
		wg.Wait()
		fresh := 0
		for _, r := range results {
			if !r.Duplicate {
				fresh++
			}
			if r.Message.ID != results[0].Message.ID {
				t.Fatal("every delivery must return the same message")
			}
		}
		if fresh != 1 {
			t.Fatalf("want exactly one new message, got %d", fresh)
		}
		ms := must(e.svc.Messages(e.ctx, e.admin, results[0].Conversation.ID))(t)
		if len(ms) != 1 {
			t.Fatalf("want 1 stored message, got %d", len(ms))
		}
	})
}

func TestInboundValidation(t *testing.T) {
	e := newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "v.db"))
	ch := e.channel(sb.KindEmail, sb.RoutingRule{})
	for name, in := range map[string]app.InboundInput{
		"no contact":  {Body: "x"},
		"bad email":   {Contact: app.InboundContact{Email: "not an email"}, Body: "x"},
		"empty body":  {Contact: app.InboundContact{Email: "a@b.test"}, Body: "  "},
		"huge body":   {Contact: app.InboundContact{Email: "a@b.test"}, Body: string(make([]byte, 70<<10))},
		"long ext id": {Contact: app.InboundContact{Email: "a@b.test"}, Body: "x", ExternalID: string(make([]byte, 600))},
	} {
		if _, err := e.svc.Inbound(e.ctx, e.admin, ch.ID, in); err == nil || sb.KindOf(err) == sb.Internal {
			t.Errorf("%s: want a client error, got %v", name, err)
		}
	}
	if _, err := e.svc.Inbound(e.ctx, e.admin, "nope", app.InboundInput{Contact: app.InboundContact{Email: "a@b.test"}, Body: "x"}); !sb.IsKind(err, sb.NotFound) {
		t.Errorf("unknown channel: want NotFound, got %v", err)
	}
	page := must(e.svc.ListConversations(e.ctx, e.admin, app.ListQuery{View: app.ViewOpen}))(t)
	if len(page.Items) != 0 {
		t.Fatalf("bad input must store nothing, found %d conversations", len(page.Items))
	}
}

func TestRuleValidation(t *testing.T) {
	e := newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "r.db"))
	ann := e.agent("ann", 0)
	noSeat := must(e.svc.CreateUser(e.ctx, e.admin, app.UserInput{Email: "free@acme.test", Name: "Free", Password: "password free"}))(t)
	rule := sb.RoutingRule{Enabled: true, Mode: sb.ModeSpecific, UserIDs: []string{ann.UserID, noSeat.ID}}
	_, err := e.svc.CreateChannel(e.ctx, e.admin, "", app.ChannelInput{Kind: sb.KindChat, Name: "chat", Routing: &rule, NewInbox: &app.InboxInput{Name: "X"}})
	if !sb.IsKind(err, sb.RuleViolation) {
		t.Fatalf("R-A2: naming a user without a seat: want RuleViolation, got %v", err)
	}
	ins := must(e.svc.ListInboxes(e.ctx, e.admin))(t)
	if len(ins) != 0 {
		t.Fatalf("R-A2: a refused channel must change nothing, found inbox %v", ins[0].Name)
	}
	// A user who loses their seat later is reported on the channel (R-A2).
	ch := e.channel(sb.KindChat, specific(ann))
	f := false
	must(e.svc.UpdateUser(e.ctx, e.admin, ann.UserID, app.UserPatch{PaidSeat: &f}))(t)
	v := must(e.svc.GetChannel(e.ctx, e.admin, ch.ID))(t)
	if len(v.RoutingWarnings) != 1 {
		t.Fatalf("R-A2: want a routing warning for ann, got %v", v.RoutingWarnings)
	}
	r := e.inbound(ch.ID, "c@x.test", "hi")
	if r.Conversation.AssigneeID != "" {
		t.Fatalf("R-A2: a user without a seat is skipped, got %q", r.Conversation.AssigneeID)
	}
	neg := -1
	if _, err := e.svc.UpdateUser(e.ctx, e.admin, ann.UserID, app.UserPatch{ChatCapacity: &neg}); !sb.IsKind(err, sb.Invalid) {
		t.Fatalf("negative capacity: want Invalid, got %v", err)
	}
}

func TestEventsCarryJSON(t *testing.T) {
	e := newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "e.db"))
	ch := e.channel(sb.KindEmail, sb.RoutingRule{})
	sub, cancel := context.WithCancel(e.ctx)
	defer cancel()
	events := e.store.Subscribe(sub, e.admin.AccountID)
	r := e.inbound(ch.ID, "c@x.test", "hello")
	select {
	case ev := <-events:
		var c sb.Conversation
		if ev.Type != sb.EventConversationCreated || json.Unmarshal(ev.Data, &c) != nil || c.ID != r.Conversation.ID {
			t.Fatalf("want conversation.created for %s, got %s %s", r.Conversation.ID, ev.Type, ev.Data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
}

func TestInboxGathersEveryChannelKind(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		inbox := must(e.svc.CreateInbox(e.ctx, e.admin, app.InboxInput{Name: "Support"}))(t)
		var ids []string
		for _, k := range []sb.ChannelKind{sb.KindEmail, sb.KindChat, sb.KindMessenger, sb.KindWhatsApp, sb.KindForm, sb.KindCalling} {
			ch := must(e.svc.CreateChannel(e.ctx, e.admin, inbox.ID, app.ChannelInput{Kind: k, Name: string(k)}))(t)
			r := must(e.svc.Inbound(e.ctx, e.admin, ch.ID, app.InboundInput{Contact: app.InboundContact{Email: string(k) + "@x.test"}, Body: "via " + string(k)}))(t)
			ids = append(ids, r.Conversation.ID)
		}
		page := must(e.svc.ListConversations(e.ctx, e.admin, app.ListQuery{View: app.ViewUnassigned, InboxID: inbox.ID}))(t)
		if len(page.Items) != len(ids) {
			t.Fatalf("R-I2: messages from all six channel kinds appear together in the inbox: want %d, got %d", len(ids), len(page.Items))
		}
		if _, err := e.svc.CreateChannel(e.ctx, e.admin, inbox.ID, app.ChannelInput{Kind: "fax", Name: "fax"}); !sb.IsKind(err, sb.Invalid) {
			t.Fatalf("R-I2: an unknown channel kind must be refused, got %v", err)
		}
	})
}

func TestLastActiveDecidesTies(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann, bob := e.agent("ann", 0), e.agent("bob", 0)
		ch := e.channel(sb.KindChat, specific(ann, bob))
		// Only bob signs in (any authenticated request counts as activity).
		token, _, err := e.svc.Login(e.ctx, app.LoginInput{Email: "bob@acme.test", Password: "password bob"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(e.ctx, token); err != nil {
			t.Fatal(err)
		}
		u := must(e.svc.GetUser(e.ctx, e.admin, bob.UserID))(t)
		if !u.LastActiveAt.Equal(e.clock.Now()) {
			t.Fatalf("R-V2: last active must be recorded on an authenticated request, got %v", u.LastActiveAt)
		}
		r := e.inbound(ch.ID, "c@x.test", "hi")
		if r.Conversation.AssigneeID != bob.UserID || r.Decision.TieBreak != "recently_active" {
			t.Fatalf("R-V2/R-A9: equal loads: the recently active bob wins, got %s by %q", r.Conversation.AssigneeID, r.Decision.TieBreak)
		}
		// Three minutes later bob is no longer "recently active".
		e.clock.Add(3 * time.Minute)
		r2 := e.inbound(ch.ID, "d@x.test", "hi")
		if r2.Conversation.AssigneeID != ann.UserID {
			t.Fatalf("R-A9: ann has fewer chats now, got %s", r2.Conversation.AssigneeID)
		}
	})
}

func TestAccountsAreIsolated(t *testing.T) {
	e := newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "iso.db"))
	ch := e.channel(sb.KindEmail, sb.RoutingRule{})
	r := e.inbound(ch.ID, "c@x.test", "secret")
	other := sb.Account{ID: "other-account", Name: "Other", TimeZone: "UTC", CreatedAt: e.clock.Now()}
	if err := e.store.Update(e.ctx, other.ID, func(tx sb.Tx) error { return tx.CreateAccount(e.ctx, &other) }); err != nil {
		t.Fatal(err)
	}
	stranger := app.Actor{AccountID: other.ID, UserID: "nobody", Role: sb.RoleAdmin}
	if _, err := e.svc.GetConversation(e.ctx, stranger, r.Conversation.ID); !sb.IsKind(err, sb.NotFound) {
		t.Fatalf("another account's conversation must not exist for them, got %v", err)
	}
	if _, err := e.svc.Inbound(e.ctx, stranger, ch.ID, app.InboundInput{Contact: app.InboundContact{Email: "x@y.test"}, Body: "x"}); !sb.IsKind(err, sb.NotFound) {
		t.Fatalf("another account's channel must not exist for them, got %v", err)
	}
}

func TestDeliverAfterCloseIsRefused(t *testing.T) {
	e := newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "closed.db"))
	ch := e.channel(sb.KindEmail, sb.RoutingRule{})
	e.svc.Close()
	_, err := e.svc.Inbound(e.ctx, e.admin, ch.ID, app.InboundInput{Contact: app.InboundContact{Email: "c@x.test"}, Body: "late"})
	if !sb.IsKind(err, sb.Unavailable) {
		t.Fatalf("after Close a delivery must be refused as Unavailable (503), not hang or fail as internal; got %v", err)
	}
}

func TestTeamView(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann, bob, carl := e.agent("ann", 0), e.agent("bob", 0), e.agent("carl", 0)
		team := must(e.svc.CreateTeam(e.ctx, e.admin, app.TeamInput{Name: "Billing", MainMemberIDs: []string{ann.UserID}, ExtraMemberIDs: []string{bob.UserID}}))(t)
		ch := e.channel(sb.KindEmail, sb.RoutingRule{})
		var ids []string
		for i := range 5 {
			ids = append(ids, e.inbound(ch.ID, fmt.Sprintf("c%d@x.test", i), "hi").Conversation.ID)
		}
		me := "me"
		must(e.svc.Assign(e.ctx, ann, ids[0], app.AssignInput{UserID: &me}))(t)
		must(e.svc.Assign(e.ctx, bob, ids[1], app.AssignInput{UserID: &me}))(t)
		must(e.svc.Assign(e.ctx, e.admin, ids[2], app.AssignInput{TeamID: &team.ID}))(t)
		must(e.svc.Assign(e.ctx, carl, ids[3], app.AssignInput{UserID: &me}))(t)
		page := must(e.svc.ListConversations(e.ctx, ann, app.ListQuery{View: app.ViewOpen, TeamID: team.ID}))(t)
		var got []string
		for _, c := range page.Items {
			got = append(got, c.ID)
		}
		want := []string{ids[0], ids[1], ids[2]}
		if len(got) != len(want) || !containsAll(got, want) {
			t.Fatalf("R-M5: the team view shows what is assigned to the team or its (main and extra) members: want %v, got %v", want, got)
		}
	})
}

func containsAll(got, want []string) bool {
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			return false
		}
	}
	return true
}

// A full page of the largest size still says whether more follow: the
// store must return the one extra row the app asks for (R-M5 views).
func TestFullLargestPageHasNextCursor(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ch := e.channel(sb.KindEmail, sb.RoutingRule{})
		for i := range 203 {
			e.inbound(ch.ID, fmt.Sprintf("c%d@x.test", i), "hello")
		}
		page := must(e.svc.ListConversations(e.ctx, e.admin, app.ListQuery{View: app.ViewOpen, Limit: 200}))(t)
		if len(page.Items) != 200 || page.NextCursor == "" {
			t.Fatalf("first page: %d items, cursor %q; want 200 and a cursor", len(page.Items), page.NextCursor)
		}
		rest := must(e.svc.ListConversations(e.ctx, e.admin, app.ListQuery{View: app.ViewOpen, Limit: 200, Cursor: page.NextCursor}))(t)
		if len(rest.Items) != 3 || rest.NextCursor != "" {
			t.Fatalf("second page: %d items, cursor %q; want the last 3 and no cursor", len(rest.Items), rest.NextCursor)
		}
	})
}

// TestRoutingSeesOtherProcessesWritesR_X7: a process keeps the roster it
// routes on between batches, yet a status change or a closed conversation
// written by another process on the same database is seen by its very next
// decision (R-X7, with R-V1 and R-A10).
func TestRoutingSeesOtherProcessesWritesR_X7(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		other := e.otherProcess(t)

		x, y := e.agent("x", 5), e.agent("y", 5)
		ch := e.channel(sb.KindChat, specific(x, y)) // chat: least busy
		var xs []string
		for i := range 2 { // one each: this process has the roster now
			r := e.inbound(ch.ID, fmt.Sprintf("a%d@x.test", i), "hi")
			if r.Conversation.AssigneeID == x.UserID {
				xs = append(xs, r.Conversation.ID)
			}
		}
		if len(xs) != 1 {
			t.Fatalf("least busy over two free agents: x got %d of 2", len(xs))
		}
		// The other process sets y away.
		must(other.SetStatus(e.ctx, y, y.UserID, app.StatusInput{Status: sb.Away}))(t)
		for i := range 2 {
			r := e.inbound(ch.ID, fmt.Sprintf("b%d@x.test", i), "hi")
			if r.Conversation.AssigneeID != x.UserID {
				t.Fatalf("R-V1: y went away on the other process, yet the conversation went to %q", r.Conversation.AssigneeID)
			}
			xs = append(xs, r.Conversation.ID)
		}
		// The other process brings y back and closes x's three
		// conversations: x is now the least busy (0 against 1).
		must(other.SetStatus(e.ctx, y, y.UserID, app.StatusInput{Status: sb.Available}))(t)
		for _, id := range xs {
			must(other.SetOpen(e.ctx, x, id, false))(t)
		}
		r := e.inbound(ch.ID, "c@x.test", "hi")
		if r.Conversation.AssigneeID != x.UserID {
			t.Fatalf("R-A9: x's conversations were closed on the other process (load 0 against y's 1), yet it went to %q: %s",
				r.Conversation.AssigneeID, r.Decision.Reason)
		}
		// The other process changes the channel's rule to y alone.
		onlyY := specific(y)
		must(other.UpdateChannel(e.ctx, e.admin, ch.ID, app.ChannelPatch{Routing: &onlyY}))(t)
		if r := e.inbound(ch.ID, "d@x.test", "hi"); r.Conversation.AssigneeID != y.UserID {
			t.Fatalf("R-A1: the rule names only y since the other process changed it, yet it went to %q", r.Conversation.AssigneeID)
		}
	})
}

// TestCredentialsEndOnEveryProcess: on PostgreSQL, a revoked integration
// token, a signed-out session and a changed role take effect on every
// process sharing the database once they commit, not when the token
// cache's entry expires (the test clock never lets it).
func TestCredentialsEndOnEveryProcess(t *testing.T) {
	e := newEnv(t, pgtest.DSN(t))
	other := e.otherProcess(t)
	// eventually waits for the other process to see the change.
	eventually := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("the other process still %s 5 s after the change committed", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	tok := must(e.svc.CreateIntegrationToken(e.ctx, e.admin, app.IntegrationTokenInput{Name: "crm"}))(t)
	must(other.Authenticate(e.ctx, tok.Secret))(t) // cached there now
	if err := e.svc.RevokeIntegrationToken(e.ctx, e.admin, tok.ID); err != nil {
		t.Fatal(err)
	}
	eventually("accepts a revoked integration token", func() bool {
		_, err := other.Authenticate(e.ctx, tok.Secret)
		return sb.IsKind(err, sb.Unauthenticated)
	})

	ann := e.agent("ann", 1)
	session, _ := must2(e.svc.Login(e.ctx, app.LoginInput{Email: "ann@acme.test", Password: "password ann"}))(t)
	if a := must(other.Authenticate(e.ctx, session))(t); a.Role != sb.RoleAgent {
		t.Fatalf("ann's session on the other process: role %q, want agent", a.Role)
	}
	admin := sb.RoleAdmin
	must(e.svc.UpdateUser(e.ctx, e.admin, ann.UserID, app.UserPatch{Role: &admin}))(t)
	eventually("has ann as an agent after she became an admin", func() bool {
		a, err := other.Authenticate(e.ctx, session)
		return err == nil && a.Role == sb.RoleAdmin
	})
	if err := e.svc.Logout(e.ctx, session); err != nil {
		t.Fatal(err)
	}
	eventually("accepts ann's session after she signed out", func() bool {
		_, err := other.Authenticate(e.ctx, session)
		return sb.IsKind(err, sb.Unauthenticated)
	})
}

// otherProcess starts a second service on the env's database, as another
// serve process would be, sharing its clock.
func (e *env) otherProcess(t *testing.T) *app.Service {
	t.Helper()
	st, err := sqlstore.Open(e.ctx, e.dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	other := app.New(app.Config{Store: st, Now: e.clock.Now, Seed: 9})
	other.Start(e.ctx)
	t.Cleanup(func() { other.Close(); st.Close() })
	return other
}
