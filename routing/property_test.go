package routing_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// randomWorld builds a small account with every kind of candidate: away,
// seatless, at capacity, recently active or not, in and out of the inbox's
// team, named twice.
func randomWorld(r *rand.Rand) (world, sb.RoutingRule) {
	var w world
	var ids []string
	for i := range 3 + r.IntN(8) {
		u := user(fmt.Sprintf("u%d", i), load(r.IntN(3)), capacity(r.IntN(4)))
		u.PaidSeat = r.IntN(6) != 0
		if r.IntN(3) == 0 {
			u.Status = sb.Away
		}
		if r.IntN(2) == 0 {
			u.LastActiveAt = now.Add(-time.Duration(r.IntN(4)) * time.Minute)
		}
		if r.IntN(3) != 0 {
			u.LastChatAssignedAt = now.Add(-time.Duration(r.IntN(3)) * time.Hour)
		}
		w.users = append(w.users, u)
		ids = append(ids, u.ID)
	}
	pickIDs := func(n int) []string {
		var out []string
		for range n {
			if r.IntN(8) == 0 {
				out = append(out, "ghost")
				continue
			}
			out = append(out, ids[r.IntN(len(ids))])
		}
		return out
	}
	w.teams = []*sb.Team{team("a", pickIDs(3), pickIDs(2)), team("b", pickIDs(3), nil)}
	inbox := &sb.Inbox{ID: "in1"}
	if r.IntN(2) == 0 {
		inbox.TeamIDs = []string{"a"}
	}
	w.inboxes = []*sb.Inbox{inbox}
	rule := specific(pickIDs(r.IntN(5)), "a", "b", "gone")
	if r.IntN(4) == 0 {
		rule = anyStatus(rule)
	}
	return w, rule
}

func randomArrival(r *rand.Rand, w world) routing.Arrival {
	some := func() []string {
		var out []string
		for _, u := range w.users {
			if r.IntN(3) == 0 {
				out = append(out, u.ID)
			}
		}
		return out
	}
	var a routing.Arrival
	if r.IntN(3) == 0 {
		a.Exclude = some()
	}
	if r.IntN(4) == 0 {
		a.StepUserIDs = some()
	}
	a.ForceAvailable = r.IntN(4) == 0
	return a
}

// The fast candidate loops of Decide agree with the record and with
// Eligible, and least busy picks what R-A9 says from the record's own
// numbers (R-A6, R-A9, R-A10, R-A12, R-X2).
func TestDecideAgreesWithRecordAndEligible(t *testing.T) {
	r := seeded()
	for n := range 2000 {
		w, rule := randomWorld(r)
		a := randomArrival(r, w)
		kind := []sb.ChannelKind{sb.KindChat, sb.KindEmail, sb.KindCalling, sb.KindForm}[r.IntN(4)]
		s := w.snapshot(t)
		p := s.Pool(channel(kind, rule))
		res := p.Decide(a, r)
		rec := res.Record(s)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("case %d (%s, %+v): %s\n%s", n, kind, a, fmt.Sprintf(format, args...), dump(rec))
		}
		var running []sb.Candidate
		temp, full := false, false
		for _, c := range rec.Candidates {
			switch c.Dropped {
			case "":
				running = append(running, c)
			case sb.DropAway:
				temp = true
			case sb.DropAtCapacity:
				temp, full = true, true
			}
			if c.Dropped == sb.DropDuplicate {
				continue
			}
			ok, why := p.Eligible(c.UserID, a)
			if ok != (c.Dropped == "") || why != c.Dropped {
				fail("Eligible(%s) = %v, %q; record says %q", c.UserID, ok, why, c.Dropped)
			}
		}
		if (res.AssigneeID == "") != (len(running) == 0) {
			fail("assignee %q with %d candidates in the running", res.AssigneeID, len(running))
		}
		if res.AssigneeID == "" {
			if res.Retry != temp {
				fail("Retry = %v", res.Retry)
			}
			if want := kind.ChatLike() && full; (res.Outcome == sb.OutcomeWaiting) != want {
				fail("Outcome = %s", res.Outcome)
			}
			continue
		}
		if kind.ChatLike() {
			if want := leastBusyOracle(running); res.AssigneeID != want {
				fail("least busy picked %s, want %s", res.AssigneeID, want)
			}
		}
	}
}

// leastBusyOracle is R-A9 written the slow, obvious way.
func leastBusyOracle(cs []sb.Candidate) string {
	recent := func(c sb.Candidate) bool {
		return !c.LastActiveAt.IsZero() && now.Sub(c.LastActiveAt) <= routing.ActiveWindow
	}
	best := cs[0]
	for _, c := range cs[1:] {
		switch {
		case c.Load != best.Load:
			if c.Load < best.Load {
				best = c
			}
		case recent(c) != recent(best):
			if recent(c) {
				best = c
			}
		case c.LastAssigned.Before(best.LastAssigned):
			best = c
		}
	}
	return best.UserID
}
