package routing_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// recordWorld is the account of the record tests; seen is Dan's last
// activity.
func recordWorld() (world, time.Time) {
	seen := now.Add(-time.Minute)
	users := []*sb.User{
		user("ann", noSeat),
		user("bob", load(2), capacity(2)),
		user("cat", away, setBy("boss"), load(1)),
		user("dan", load(1), capacity(4), func(u *sb.User) { u.LastActiveAt = seen }, assignedAgo(time.Hour)),
		user("eve", load(1)),
	}
	w := world{users: users, teams: []*sb.Team{team("t", ids("bob", "cat", "ann"), ids("eve"))}}
	return w, seen
}

// Rule R-A12: the record lists every user considered, in order, with how
// they got there, their state and why they were dropped.
func TestRecordCandidates(t *testing.T) {
	w, seen := recordWorld()
	t.Run("R-A12 every candidate with its drop reason", func(t *testing.T) {
		s := w.snapshot(t)
		res := s.Pool(channel(sb.KindChat, specific(ids("ann", "ghost", "dan"), "t"))).Decide(routing.Arrival{Trigger: sb.TriggerCreated}, nil)
		got := res.Record(s)
		want := sb.Decision{
			Mode: sb.ModeSpecific, Strategy: routing.StrategyLeastBusy, Outcome: sb.OutcomeAssigned, AssigneeID: "dan",
			Reason: "Least busy: Dan is the only candidate left and has 1 open chat.",
			Candidates: []sb.Candidate{
				{UserID: "ann", Via: "user", Status: sb.Available, StatusReason: "manual", Dropped: sb.DropNoSeat},
				{UserID: "ghost", Via: "user", Dropped: sb.DropUnknownUser},
				{UserID: "dan", Via: "user", Status: sb.Available, StatusReason: "manual", Load: 1, Capacity: 4, LastActiveAt: seen, LastAssigned: now.Add(-time.Hour)},
				{UserID: "bob", Via: "team:t", Status: sb.Available, StatusReason: "manual", Load: 2, Capacity: 2, Dropped: sb.DropAtCapacity},
				{UserID: "cat", Via: "team:t", Status: sb.Away, StatusReason: "set_by_admin", Load: 1, Dropped: sb.DropAway},
				{UserID: "ann", Via: "team:t", Status: sb.Available, StatusReason: "manual", Dropped: sb.DropDuplicate},
			},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Record =\n%s\nwant\n%s", dump(got), dump(want))
		}
	})
}

// Rule R-A12: the reason names the winner; the record keeps the order of
// the phases and the load as it was when the decision was made.
func TestRecord(t *testing.T) {
	w, _ := recordWorld()
	t.Run("R-A12 the reason names the winner", func(t *testing.T) {
		s := w.snapshot(t)
		for _, k := range []sb.ChannelKind{sb.KindChat, sb.KindEmail} {
			res := s.Pool(channel(k, specific(ids("ann", "eve", "dan")))).Decide(routing.Arrival{}, seeded())
			rec := res.Record(s)
			name := strings.ToUpper(res.AssigneeID[:1]) + res.AssigneeID[1:]
			if res.AssigneeID == "" || !strings.Contains(rec.Reason, name) {
				t.Errorf("%s: Reason %q does not name the winner %q", k, rec.Reason, res.AssigneeID)
			}
		}
	})
	t.Run("R-A12 a user without a name is named by id", func(t *testing.T) {
		s := world{users: []*sb.User{user("u-17", noName)}}.snapshot(t)
		res := s.Pool(channel(sb.KindEmail, specific(ids("u-17")))).Decide(routing.Arrival{}, nil)
		eq(t, "Reason", res.Reason, "Assigned to u-17, the only available candidate.")
	})
	t.Run("R-A12 R-X4 R-A8 order: previous assignee, owner, fallback", func(t *testing.T) {
		s := w.snapshot(t)
		rule := ownerRule(sb.Fallback{Mode: sb.FallbackSpecific, UserIDs: ids("eve", "dan")})
		a := routing.Arrival{Previous: "cat", Contact: &sb.Contact{OwnerID: "bob"}, ContactKnown: true}
		rec := s.Pool(channel(sb.KindChat, rule)).Decide(a, nil).Record(s)
		var got []string
		for _, c := range rec.Candidates {
			got = append(got, c.UserID+"/"+c.Via+"/"+c.Dropped)
		}
		want := []string{"cat/previous_assignee/away", "bob/owner/at_capacity", "eve/user/", "dan/user/"}
		eq(t, "candidates", strings.Join(got, " "), strings.Join(want, " "))
		eq(t, "AssigneeID", rec.AssigneeID, "dan") // tie on load, Dan was active recently
		eq(t, "TieBreak", rec.TieBreak, routing.TieRecentlyActive)
		if d, _ := candidate(rec, "dan"); d.LastActiveAt.IsZero() {
			t.Errorf("R-A12: the tie-broken winner's activity time explains the win and must stay in the record")
		}
		eq(t, "Mode", rec.Mode, "fallback_specific")
		eqb(t, "UsedFallback", rec.UsedFallback, true)
	})
	t.Run("R-A12 record shows the load at decision time", func(t *testing.T) {
		s := w.snapshot(t)
		p := s.Pool(channel(sb.KindChat, specific(ids("eve", "dan"))))
		res := p.Decide(routing.Arrival{}, nil)
		eq(t, "AssigneeID", res.AssigneeID, "dan")
		s.Assigned("dan", sb.KindChat)
		s.Assigned("dan", sb.KindChat)
		s.Released("eve", sb.KindChat)
		next := p.Decide(routing.Arrival{}, nil)
		eq(t, "next AssigneeID", next.AssigneeID, "eve")
		rec := res.Record(s)
		dan, _ := candidate(rec, "dan")
		eve, _ := candidate(rec, "eve")
		eq(t, "dan load", dan.Load, 1)
		eq(t, "dan last assigned", dan.LastAssigned, now.Add(-time.Hour))
		eq(t, "eve load", eve.Load, 1)
		dan, _ = candidate(next.Record(s), "dan")
		eq(t, "dan load in the next record", dan.Load, 3)
		// Dan lost on load alone, so the record leaves his times out.
		eqb(t, "dan's times left out of the next record", dan.LastAssigned.IsZero() && dan.LastActiveAt.IsZero(), true)
	})
	t.Run("R-A12 zero result", func(t *testing.T) {
		rec := routing.Result{}.Record(nil)
		if len(rec.Candidates) != 0 {
			t.Errorf("Candidates = %v, want none", rec.Candidates)
		}
	})
}

func dump(d sb.Decision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s/%s/%s tie=%q notify=%v fallback=%v\n%q\n", d.Mode, d.Strategy, d.Outcome, d.AssigneeID, d.TieBreak, d.NotifyOwner, d.UsedFallback, d.Reason)
	for _, c := range d.Candidates {
		fmt.Fprintf(&b, "  %+v\n", c)
	}
	return b.String()
}

// Rules R-A9 and R-A10 across a batch: Assigned and Released change what
// the next decision of the same snapshot sees.
func TestSnapshotBatch(t *testing.T) {
	five := func() world {
		var us []*sb.User
		for _, id := range ids("ann", "bob", "cat", "dan", "eve") {
			us = append(us, user(id))
		}
		return world{users: us}
	}
	rule := specific(ids("ann", "bob", "cat", "dan", "eve"))
	t.Run("R-A9 ten chats over five equal users spread 2/2/2/2/2", func(t *testing.T) {
		s := five().snapshot(t)
		p := s.Pool(channel(sb.KindChat, rule))
		got := map[string]int{}
		var order []string
		for range 10 {
			res := p.Decide(routing.Arrival{}, nil)
			got[res.AssigneeID]++
			order = append(order, res.AssigneeID)
			s.Assigned(res.AssigneeID, sb.KindChat)
		}
		for _, id := range rule.UserIDs {
			if got[id] != 2 {
				t.Errorf("spread %v (order %v), want 2 each", got, order)
				break
			}
		}
	})
	t.Run("R-A9 without Assigned the batch piles on one user", func(t *testing.T) {
		s := five().snapshot(t)
		p := s.Pool(channel(sb.KindChat, rule))
		for range 3 {
			eq(t, "AssigneeID", p.Decide(routing.Arrival{}, nil).AssigneeID, "ann")
		}
	})
	t.Run("R-A9 the second of a batch breaks the tie on last assignment", func(t *testing.T) {
		s := world{users: []*sb.User{user("ann", load(1)), user("bob", load(0))}}.snapshot(t)
		p := s.Pool(channel(sb.KindChat, specific(ids("ann", "bob"))))
		first := p.Decide(routing.Arrival{}, nil)
		eq(t, "first", first.AssigneeID, "bob")
		s.Assigned("bob", sb.KindChat)
		second := p.Decide(routing.Arrival{}, nil)
		eq(t, "second", second.AssigneeID, "ann")
		eq(t, "TieBreak", second.TieBreak, routing.TieLeastRecentlyAssigned)
	})
	t.Run("R-A10 R-X2 Released frees capacity for the waiting conversation", func(t *testing.T) {
		s := world{users: []*sb.User{user("fay", capacity(1), load(1))}}.snapshot(t)
		p := s.Pool(channel(sb.KindChat, specific(ids("fay"))))
		eq(t, "Outcome", p.Decide(routing.Arrival{}, nil).Outcome, sb.OutcomeWaiting)
		s.Released("fay", sb.KindEmail) // email does not count
		eq(t, "Outcome after an email", p.Decide(routing.Arrival{}, nil).Outcome, sb.OutcomeWaiting)
		s.Released("fay", sb.KindChat)
		if ok, _ := p.Eligible("fay", routing.Arrival{}); !ok {
			t.Error("Eligible(fay) = false after Released")
		}
		eq(t, "AssigneeID", p.Decide(routing.Arrival{}, nil).AssigneeID, "fay")
		s.Assigned("fay", sb.KindChat)
		eq(t, "Outcome when full again", p.Decide(routing.Arrival{}, nil).Outcome, sb.OutcomeWaiting)
	})
	t.Run("R-A10 Released never goes below zero; unknown users are ignored", func(t *testing.T) {
		s := world{users: []*sb.User{user("fay", capacity(1))}}.snapshot(t)
		p := s.Pool(channel(sb.KindChat, specific(ids("fay"))))
		s.Released("fay", sb.KindChat)
		s.Released("ghost", sb.KindChat)
		s.Assigned("ghost", sb.KindChat)
		s.Assigned("fay", sb.KindChat)
		eq(t, "Outcome", p.Decide(routing.Arrival{}, nil).Outcome, sb.OutcomeWaiting)
	})
	t.Run("R-A10 email assignments do not count towards chat capacity", func(t *testing.T) {
		s := world{users: []*sb.User{user("fay", capacity(1))}}.snapshot(t)
		s.Assigned("fay", sb.KindEmail)
		s.Assigned("fay", sb.KindForm)
		eq(t, "AssigneeID", s.Pool(channel(sb.KindChat, specific(ids("fay")))).Decide(routing.Arrival{}, nil).AssigneeID, "fay")
	})
}

func TestSnapshot(t *testing.T) {
	users := []*sb.User{user("ann"), nil, user("ann", away), user("bob")}
	s := routing.NewSnapshot(now, users, []*sb.Team{nil}, []*sb.Inbox{nil, openInbox})
	eq(t, "Now", s.Now(), now)
	st, _, ok := s.Effective("ann")
	if !ok || st != sb.Available {
		t.Errorf("Effective(ann) = %s, %v; the first of two users with one id wins", st, ok)
	}
	ch := channel(sb.KindChat, specific(ids("ann")))
	if s.Pool(ch) != s.Pool(ch) {
		t.Error("Pool is not cached by channel id")
	}
	res := s.Pool(nil).Decide(routing.Arrival{}, nil)
	eq(t, "nil channel Outcome", res.Outcome, sb.OutcomeUnassigned)
	// The snapshot does not modify the users it was given.
	s.Assigned("ann", sb.KindChat)
	eq(t, "OpenChats of the input", users[0].OpenChats, 0)
}

// Decide allocates nothing per candidate: one allocation, the Reason
// string, whatever the number of candidates.
func TestDecideAllocations(t *testing.T) {
	for _, k := range []sb.ChannelKind{sb.KindChat, sb.KindEmail} {
		s, ch := bigWorld(1000, k)
		p := s.Pool(ch)
		r := seeded()
		allocs := testing.AllocsPerRun(200, func() { p.Decide(routing.Arrival{Exclude: ids("u0001")}, r) })
		if allocs > 1 {
			t.Errorf("%s: Decide allocates %.1f times per run, want at most 1", k, allocs)
		}
	}
}
