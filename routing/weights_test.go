package routing_test

import (
	"math/rand/v2"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// weightsOn is R-X5's default costs, switched on, with capacities in units.
func weightsOn(capacities map[string]int) *sb.RoutingWeights {
	w := sb.DefaultWeights()
	w.Enabled = true
	if capacities != nil {
		w.Capacities = capacities
	}
	return &w
}

// Rule R-X5 with R-A9: least busy counts units (the sum of the costs of
// the user's open conversations), not open chats.
func TestWeightedLeastBusy(t *testing.T) {
	rule := specific(ids("ann", "bob", "cat"))
	w := weightsOn(nil)
	runCases(t, []decideCase{
		{name: "R-X5 fewer units wins over fewer chats", w: world{
			// Ann has 2 open chats (68 units); Bob 1 open chat but a call (134 units).
			users:   []*sb.User{user("ann", load(2)), user("bob", load(1))},
			weights: w, units: map[string]int{"ann": 68, "bob": 134}}, rule: specific(ids("ann", "bob")),
			want: want{assignee: "ann", strategy: routing.StrategyLeastBusy, reason: []string{"Least busy: Ann has 68 units of load, fewer than the other candidate."}}},
		{name: "R-X5 emails count towards the load", w: world{
			users:   []*sb.User{user("ann"), user("bob"), user("cat")},
			weights: w, units: map[string]int{"ann": 30, "bob": 10, "cat": 20}}, rule: rule,
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy}},
		{name: "R-X5 equal units fall to R-A9's tie-breaks", w: world{
			users:   []*sb.User{user("ann", activeAgo(10*time.Minute)), user("bob", activeAgo(time.Second)), user("cat")},
			weights: w, units: map[string]int{"ann": 34, "bob": 34, "cat": 34}}, rule: rule,
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy, tieBreak: routing.TieRecentlyActive}},
		{name: "R-X5 weights off: plain open chat counts, units ignored", w: world{
			users: []*sb.User{user("ann", load(2)), user("bob", load(1))},
			units: map[string]int{"ann": 68, "bob": 134}}, rule: specific(ids("ann", "bob")),
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy, reason: []string{"Bob has 1 open chat"}}},
		{name: "R-X5 a disabled setting is off", w: world{
			users:   []*sb.User{user("ann", load(2)), user("bob", load(1))},
			weights: &sb.RoutingWeights{Costs: sb.DefaultCosts()}, units: map[string]int{"ann": 68, "bob": 134}}, rule: specific(ids("ann", "bob")),
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy}},
	})
}

// Rule R-X5 with R-A10: capacity in units; a user is at capacity when one
// more conversation of the channel's kind would exceed it, and with
// weights capacity applies to every kind that costs units.
func TestWeightedCapacity(t *testing.T) {
	rule := specific(ids("ann", "bob"))
	caps := weightsOn(map[string]int{"ann": 100, "bob": 100})
	cases := []decideCase{
		{name: "R-X5 a call needs 100 free units", w: world{users: []*sb.User{user("ann"), user("bob")}, weights: caps,
			units: map[string]int{"ann": 10, "bob": 34}}, kind: sb.KindCalling, rule: rule,
			want: want{outcome: sb.OutcomeWaiting, strategy: routing.StrategyLeastBusy, retry: true,
				dropped: map[string]string{"ann": sb.DropAtCapacity, "bob": sb.DropAtCapacity}}},
		{name: "R-X5 a chat fits beside two chats (68+34 > 100 does not)", w: world{users: []*sb.User{user("ann"), user("bob")}, weights: caps,
			units: map[string]int{"ann": 68, "bob": 66}}, rule: rule,
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy, dropped: map[string]string{"ann": sb.DropAtCapacity, "bob": ""}}},
		{name: "R-X5 exactly filling capacity is allowed", w: world{users: []*sb.User{user("ann")}, weights: caps,
			units: map[string]int{"ann": 90}}, kind: sb.KindEmail, rule: specific(ids("ann")),
			want: want{assignee: "ann", strategy: routing.StrategyRandom}},
		{name: "R-X5 capacity applies to email with weights on", w: world{users: []*sb.User{user("ann"), user("bob")}, weights: caps,
			units: map[string]int{"ann": 95, "bob": 100}}, kind: sb.KindEmail, rule: rule,
			want: want{outcome: sb.OutcomeUnassigned, strategy: routing.StrategyRandom, retry: true,
				dropped: map[string]string{"ann": sb.DropAtCapacity, "bob": sb.DropAtCapacity}}},
		{name: "R-X5 without a capacity in units, chat capacity × chat cost", w: world{users: []*sb.User{user("ann", capacity(2)), user("bob", capacity(3))}, weights: weightsOn(nil),
			units: map[string]int{"ann": 44, "bob": 68}}, rule: rule, // ann 44+34 > 68; bob 68+34 <= 102
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy, dropped: map[string]string{"ann": sb.DropAtCapacity}}},
		{name: "R-X5 no capacity at all means no limit", w: world{users: []*sb.User{user("ann")}, weights: weightsOn(nil),
			units: map[string]int{"ann": 5000}}, kind: sb.KindCalling, rule: specific(ids("ann")),
			want: want{assignee: "ann", strategy: routing.StrategyLeastBusy}},
		{name: "R-X5 weights off: email ignores capacity (R-A10 unchanged)", w: world{users: []*sb.User{user("ann", capacity(1), load(1))},
			units: map[string]int{"ann": 1000}}, kind: sb.KindEmail, rule: specific(ids("ann")),
			want: want{assignee: "ann", strategy: routing.StrategyRandom}},
	}
	runCases(t, cases)
}

// Rule R-X5 and R-A12: the record shows loads and capacities in units, as
// they were when the decision was made; Assigned and Released move loads
// by the kind's cost.
func TestWeightedSnapshotAndRecord(t *testing.T) {
	w := world{users: []*sb.User{user("ann"), user("bob")}, weights: weightsOn(map[string]int{"ann": 100, "bob": 100}),
		units: map[string]int{"ann": 0, "bob": 10}}
	s := w.snapshot(t)
	pool := s.Pool(channel(sb.KindChat, specific(ids("ann", "bob"))))
	first := pool.Decide(routing.Arrival{Trigger: sb.TriggerCreated}, nil)
	eq(t, "first", first.AssigneeID, "ann")
	s.Assigned("ann", sb.KindChat)
	if l, c, _ := s.Load("ann"); l != 34 || c != 100 {
		t.Fatalf("ann after a chat: load %d capacity %d, want 34 100", l, c)
	}
	s.Assigned("ann", sb.KindEmail)
	second := pool.Decide(routing.Arrival{Trigger: sb.TriggerCreated}, nil)
	eq(t, "second", second.AssigneeID, "bob")
	rec := first.Record(s)
	ann, _ := candidate(rec, "ann")
	eq(t, "first record: ann's load", ann.Load, 0)
	eq(t, "first record: ann's capacity", ann.Capacity, 100)
	rec = second.Record(s)
	ann, _ = candidate(rec, "ann")
	bob, _ := candidate(rec, "bob")
	eq(t, "second record: ann's load", ann.Load, 44)
	eq(t, "second record: bob's load", bob.Load, 10)
	s.Released("ann", sb.KindChat)
	s.Released("ann", sb.KindEmail)
	s.Released("ann", sb.KindEmail)
	if l, _, _ := s.Load("ann"); l != 0 {
		t.Errorf("ann after releasing everything: load %d, want 0 (never below)", l)
	}
	eqb(t, "Weighted", s.Weighted(), true)
}

// Rule R-X5: Units sums open conversations per kind by their costs.
func TestUnits(t *testing.T) {
	w := weightsOn(nil)
	got := routing.Units(w, []sb.KindLoad{{UserID: "ann", Kind: sb.KindChat, Open: 2}, {UserID: "ann", Kind: sb.KindEmail, Open: 3},
		{UserID: "bob", Kind: sb.KindCalling, Open: 1}, {UserID: "cat", Kind: "fax", Open: 9}})
	eq(t, "ann", got["ann"], 98)
	eq(t, "bob", got["bob"], 100)
	eq(t, "cat", got["cat"], 0)
}

// Advance (used by the dry run, R-X6) recomputes effective statuses when
// working hours start or end, and keeps the load.
func TestAdvance(t *testing.T) {
	// Ann works 10:00-10:05 UTC on Wednesday; now is 10:00.
	w := world{users: []*sb.User{user("ann", hours("UTC", sb.HoursRange{Day: time.Wednesday, Start: 600, End: 605})), user("bob", load(3))}}
	s := w.snapshot(t)
	pool := s.Pool(channel(sb.KindChat, specific(ids("ann", "bob"))))
	eq(t, "at 10:00", pool.Decide(routing.Arrival{}, nil).AssigneeID, "ann")
	s.Assigned("ann", sb.KindChat)
	eqb(t, "Advance within the minute changes", s.Advance(now.Add(30*time.Second)), false)
	eqb(t, "Advance to 10:05 changes", s.Advance(now.Add(5*time.Minute)), true)
	st, why, _ := s.Effective("ann")
	eq(t, "ann's status at 10:05", st, sb.Away)
	eq(t, "ann's reason", why, sb.ReasonWorkingHours)
	pool = s.Pool(channel(sb.KindChat, specific(ids("ann", "bob"))))
	eq(t, "at 10:05", pool.Decide(routing.Arrival{}, nil).AssigneeID, "bob")
	if l, _, _ := s.Load("ann"); l != 1 {
		t.Errorf("ann's load after Advance = %d, want 1", l)
	}
	eqb(t, "Advance backwards", s.Advance(now), false)
}

// Rule R-X5: weights that cost 1 per chat-like conversation and nothing
// for email and forms, with every capacity in units equal to the chat
// capacity, decide exactly as R-A9/R-A10 without weights, over random
// worlds, arrivals and batches of assignments and releases.
func TestUnitWeightsEqualPlainCountsR_X5(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for n := range 300 {
		w, rule := randomWorld(r)
		unit := &sb.RoutingWeights{Enabled: true, Costs: map[sb.ChannelKind]int{sb.KindChat: 1, sb.KindMessenger: 1, sb.KindWhatsApp: 1, sb.KindCalling: 1}}
		units := map[string]int{}
		for _, u := range w.users {
			units[u.ID] = u.OpenChats
		}
		plain, weighted := w, w
		weighted.weights, weighted.units = unit, units
		ps, ws := plain.snapshot(t), weighted.snapshot(t)
		kind := []sb.ChannelKind{sb.KindChat, sb.KindEmail, sb.KindCalling}[r.IntN(3)]
		ch := channel(kind, rule)
		for step := range 6 {
			a := randomArrival(r, w)
			seed := r.Uint64()
			pr := ps.Pool(ch).Decide(a, rand.New(rand.NewPCG(seed, 1)))
			wr := ws.Pool(ch).Decide(a, rand.New(rand.NewPCG(seed, 1)))
			if pr.AssigneeID != wr.AssigneeID || pr.Outcome != wr.Outcome || pr.Retry != wr.Retry || pr.TieBreak != wr.TieBreak {
				t.Fatalf("world %d step %d (%s): plain %s %q retry %v tie %q; unit weights %s %q retry %v tie %q",
					n, step, kind, pr.Outcome, pr.AssigneeID, pr.Retry, pr.TieBreak, wr.Outcome, wr.AssigneeID, wr.Retry, wr.TieBreak)
			}
			if pr.AssigneeID != "" {
				ps.Assigned(pr.AssigneeID, kind)
				ws.Assigned(wr.AssigneeID, kind)
			}
			if u := w.users[r.IntN(len(w.users))]; r.IntN(3) == 0 {
				ps.Released(u.ID, sb.KindChat)
				ws.Released(u.ID, sb.KindChat)
			}
		}
	}
}
