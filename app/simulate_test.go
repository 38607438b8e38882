package app_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/simulate"
)

// liveStream routes a random stream through the real service: arrivals
// from a pool of returning contacts on two channels, each conversation
// closed by an admin after its handling time from assignment (which frees
// capacity and drains the backlog, R-X2). Times are distinct, so that the
// order of events is never a tie.
type liveStream struct {
	e       *env
	rnd     *rand.Rand
	closes  map[time.Time]string // close instant -> conversation
	waiting map[string]time.Duration
	open    map[string]bool   // contact+channel with an open conversation
	key     map[string]string // conversation -> its contact+channel
	used    map[time.Time]bool
	routed  int
	retries int
}

func (l *liveStream) schedule(id string, from time.Time, d time.Duration) {
	at := from.Add(d).Truncate(time.Second).Add(500 * time.Millisecond)
	for l.used[at] {
		at = at.Add(time.Millisecond)
	}
	l.used[at] = true
	l.closes[at] = id
}

// closeUntil closes every conversation due before t, in time order.
func (l *liveStream) closeUntil(t *testing.T, until time.Time) {
	for {
		var next time.Time
		for at := range l.closes {
			if at.Before(until) && (next.IsZero() || at.Before(next)) {
				next = at
			}
		}
		if next.IsZero() {
			return
		}
		id := l.closes[next]
		delete(l.closes, next)
		l.e.clock.Add(next.Sub(l.e.clock.Now()))
		c := must(l.e.svc.SetOpen(l.e.ctx, l.e.admin, id, false))(t)
		delete(l.open, l.key[c.ID])
		for wid, d := range l.waiting {
			w := must(l.e.svc.GetConversation(l.e.ctx, l.e.admin, wid))(t)
			if w.AssigneeID != "" {
				delete(l.waiting, wid)
				l.schedule(wid, l.e.clock.Now(), d)
			}
		}
	}
}

func (l *liveStream) run(t *testing.T, n int, channels ...*app.ChannelView) {
	next := l.e.clock.Now()
	for range n {
		next = next.Add(time.Duration(1+l.rnd.IntN(16)) * time.Second)
		l.closeUntil(t, next)
		l.e.clock.Add(next.Sub(l.e.clock.Now()))
		ch := channels[l.rnd.IntN(len(channels))]
		contact := fmt.Sprintf("new%d@x.test", l.routed) // when every pooled contact is busy
		for range 50 {
			if c := fmt.Sprintf("c%02d@x.test", l.rnd.IntN(30)); !l.open[c+ch.ID] {
				contact = c
				break
			}
		}
		r := l.e.inbound(ch.ID, contact, "hello")
		if r.Decision.Trigger == sb.TriggerReturning {
			l.retries++
		}
		c := r.Conversation
		l.open[contact+ch.ID] = true
		l.key[c.ID] = contact + ch.ID
		d := time.Duration(20+l.rnd.IntN(200)) * time.Second
		switch {
		case c.AssigneeID != "":
			l.schedule(c.ID, l.e.clock.Now(), d)
		case c.Waiting:
			l.waiting[c.ID] = d
		}
		l.routed++
	}
	l.closeUntil(t, next.Add(time.Minute)) // the last ones are left open
}

// Rule R-X6: the simulator reproduces the live engine's decisions exactly.
// A stream is routed through the real service (least busy with capacities,
// waiting and drains, returning contacts; and a random email rule with the
// service's seed); the simulator then replays the recorded stream of each
// channel with the account's roster and the same seed, and must name the
// same assignee for every conversation.
func TestSimulatorReproducesLiveR_X6(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		var agents []app.Actor
		for i, capacity := range []int{2, 1, 2, 3, 1} {
			agents = append(agents, e.agent(fmt.Sprintf("agent%d", i), capacity))
		}
		chat := e.channel(sb.KindChat, specific(agents...))
		email := e.channel(sb.KindEmail, specific(agents...))
		start := e.clock.Now()
		l := &liveStream{e: e, rnd: rand.New(rand.NewPCG(11, 12)), closes: map[time.Time]string{}, waiting: map[string]time.Duration{},
			open: map[string]bool{}, key: map[string]string{}, used: map[time.Time]bool{}}
		l.run(t, 150, chat, email, chat)
		end := e.clock.Now().Add(time.Hour)
		if l.retries == 0 {
			t.Fatal("the stream has no returning contact (R-X4); make it longer")
		}
		for _, ch := range []*app.ChannelView{chat, email} {
			var recorded []sb.RecordedConversation
			if err := e.store.View(e.ctx, func(tx sb.Tx) error {
				var err error
				recorded, err = tx.RecordedConversations(e.ctx, e.admin.AccountID, ch.ID, start, end)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			cmp := must(e.svc.Simulate(e.ctx, e.admin, app.SimulateInput{Rule: &app.SimRule{ChannelID: ch.ID},
				Arrivals: app.SimArrivals{Recorded: &app.SimRecorded{From: start, To: end}}, Seed: 7}))(t)
			got := cmp.A
			if len(got.Assignees) != len(recorded) || len(recorded) < 30 {
				t.Fatalf("%s: %d simulated, %d recorded", ch.Kind, len(got.Assignees), len(recorded))
			}
			for i, r := range recorded {
				if got.Assignees[i] != r.AssigneeID {
					t.Fatalf("R-X6 %s conversation %d (%s at %s): the server decided %q, the simulator %q",
						ch.Kind, i, r.ID, r.CreatedAt.Format(time.TimeOnly), r.AssigneeID, got.Assignees[i])
				}
			}
			if ch.Kind == sb.KindChat && (got.Waited == 0 || got.AssignedAtOnce == 0) {
				t.Fatalf("R-X6: the chat stream should have waited and drained conversations: %d at once, %d waited", got.AssignedAtOnce, got.Waited)
			}
			t.Logf("%s: %d conversations reproduced; %d waited, %d still waiting", ch.Kind, len(recorded), got.Waited, got.StillWaiting)
		}
	})
}

// readOnlyStore is the real store with writes refused and counted.
type readOnlyStore struct {
	sb.Store
	writes atomic.Int32
}

func (s *readOnlyStore) Update(ctx context.Context, accountID string, fn func(sb.Tx) error) error {
	s.writes.Add(1)
	return sb.E("readOnlyStore.Update", sb.Internal, "read_only", "this store is read-only")
}

func (s *readOnlyStore) UpdateBatch(ctx context.Context, accountID string, _ *sb.BatchRead, fn func(sb.Tx) error) error {
	return s.Update(ctx, accountID, fn)
}

// Rule R-X6: a dry run changes nothing: it never opens a write
// transaction, and the account's data and event log are as before. Only
// admins may run one.
func TestSimulateWritesNothingR_X6(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann, bob := e.agent("ann", 1), e.agent("bob", 1)
		ch := e.channel(sb.KindChat, specific(ann, bob))
		for i := range 4 {
			e.clock.Add(time.Minute)
			e.inbound(ch.ID, fmt.Sprintf("c%d@x.test", i), "hi")
		}
		before := snapshotOf(t, e)
		ro := &readOnlyStore{Store: e.store}
		dry := app.New(app.Config{Store: ro, Now: e.clock.Now, Seed: 7})
		in := app.SimulateInput{Rule: &app.SimRule{ChannelID: ch.ID},
			CompareRule: &app.SimRule{Name: "ann only", Kind: sb.KindChat, Routing: &sb.RoutingRule{Enabled: true, Mode: sb.ModeSpecific, UserIDs: []string{ann.UserID}}},
			Arrivals:    app.SimArrivals{Recorded: &app.SimRecorded{From: e.clock.Now().Add(-time.Hour), To: e.clock.Now().Add(time.Hour)}}}
		_, err := dry.Simulate(e.ctx, ann, in)
		wantKind(t, "R-X6 an agent runs a dry run", err, sb.Forbidden)
		res := must(dry.Simulate(e.ctx, e.admin, in))(t)
		if res.A.Arrivals != 4 || res.B == nil || res.B.Assigned != 1 || res.A.Assigned != 2 {
			t.Fatalf("R-X6: unexpected dry run %+v / %+v", res.A, res.B)
		}
		p := in
		p.Arrivals = app.SimArrivals{Poisson: &simulate.Poisson{From: e.clock.Now(), Hours: 1, RatePerHour: 30, HandleSecs: 60}}
		must(dry.Simulate(e.ctx, e.admin, p))(t)
		if n := ro.writes.Load(); n != 0 {
			t.Fatalf("R-X6: a dry run opened %d write transactions", n)
		}
		if after := snapshotOf(t, e); !slices.Equal(before, after) {
			t.Fatalf("R-X6: the database changed:\nbefore %v\nafter  %v", before, after)
		}
		bad := in
		bad.Arrivals = app.SimArrivals{}
		_, err = dry.Simulate(e.ctx, e.admin, bad)
		wantKind(t, "R-X6 no arrivals", err, sb.Invalid)
		bad.Arrivals, bad.Rule = in.Arrivals, &app.SimRule{ChannelID: "nope"}
		_, err = dry.Simulate(e.ctx, e.admin, bad)
		wantKind(t, "R-X6 an unknown channel", err, sb.NotFound)
	})
}

// snapshotOf summarises the account: users with their loads,
// conversations with their assignees, and the event log's length.
func snapshotOf(t *testing.T, e *env) []string {
	var out []string
	if err := e.store.View(e.ctx, func(tx sb.Tx) error {
		us, err := tx.Users(e.ctx, e.admin.AccountID)
		if err != nil {
			return err
		}
		for _, u := range us {
			out = append(out, fmt.Sprintf("user %s %d %s", u.ID, u.OpenChats, u.LastChatAssignedAt))
		}
		cs, err := tx.Conversations(e.ctx, sb.ConversationFilter{AccountID: e.admin.AccountID, Limit: 200})
		if err != nil {
			return err
		}
		for _, c := range cs {
			out = append(out, fmt.Sprintf("conv %s %s %s %v", c.ID, c.Status, c.AssigneeID, c.Waiting))
		}
		evs, err := tx.EventsSince(e.ctx, e.admin.AccountID, 0, 10000)
		out = append(out, fmt.Sprintf("events %d", len(evs)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
