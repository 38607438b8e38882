package routing_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zone tests must not depend on the host's zone files

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// now is a Wednesday morning in UTC.
var now = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// seeded returns the fixed-seed source every randomised test uses.
func seeded() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

// userOpt changes a test user.
type userOpt func(*sb.User)

// user returns a seated, available user named after id ("ann" -> "Ann").
func user(id string, opts ...userOpt) *sb.User {
	u := &sb.User{ID: id, AccountID: "acc", Name: strings.ToUpper(id[:1]) + id[1:], PaidSeat: true, Status: sb.Available}
	for _, o := range opts {
		o(u)
	}
	return u
}

func away(u *sb.User)   { u.Status = sb.Away }
func noSeat(u *sb.User) { u.PaidSeat = false }
func noName(u *sb.User) { u.Name = "" }

func load(n int) userOpt     { return func(u *sb.User) { u.OpenChats = n } }
func capacity(n int) userOpt { return func(u *sb.User) { u.ChatCapacity = n } }
func setBy(id string) userOpt {
	return func(u *sb.User) { u.StatusSetBy = id }
}

// activeAgo sets LastActiveAt to d before now.
func activeAgo(d time.Duration) userOpt { return func(u *sb.User) { u.LastActiveAt = now.Add(-d) } }

// assignedAgo sets LastChatAssignedAt to d before now.
func assignedAgo(d time.Duration) userOpt {
	return func(u *sb.User) { u.LastChatAssignedAt = now.Add(-d) }
}

func hours(zone string, ranges ...sb.HoursRange) userOpt {
	return func(u *sb.User) { u.WorkingHours = sb.WorkingHours{TimeZone: zone, Ranges: ranges} }
}

func team(id string, main, extra []string) *sb.Team {
	return &sb.Team{ID: id, AccountID: "acc", Name: id, MainMemberIDs: main, ExtraMemberIDs: extra}
}

func ids(s ...string) []string { return s }

// openInbox is the inbox every test channel connects to unless told.
var openInbox = &sb.Inbox{ID: "in1", AccountID: "acc", Name: "Support"}

func specific(users []string, teams ...string) sb.RoutingRule {
	return sb.RoutingRule{Enabled: true, Mode: sb.ModeSpecific, UserIDs: users, TeamIDs: teams}
}

func anyStatus(r sb.RoutingRule) sb.RoutingRule {
	off := false
	r.OnlyAvailable = &off
	return r
}

func ownerRule(fb sb.Fallback) sb.RoutingRule {
	return sb.RoutingRule{Enabled: true, Mode: sb.ModeContactOwner, Fallback: fb}
}

func known(owner string) routing.Arrival {
	return routing.Arrival{Trigger: sb.TriggerCreated, ContactKnown: true, Contact: &sb.Contact{ID: "c1", OwnerID: owner}}
}

// world is the account a case routes in.
type world struct {
	users   []*sb.User
	teams   []*sb.Team
	inboxes []*sb.Inbox // default: openInbox
	// weights, when set, makes the snapshot weighted (R-X5) with units as
	// the users' loads in units.
	weights *sb.RoutingWeights
	units   map[string]int
}

func (w world) snapshot(t testing.TB) *routing.Snapshot {
	t.Helper()
	inboxes := w.inboxes
	if inboxes == nil {
		inboxes = []*sb.Inbox{openInbox}
	}
	return routing.NewWeightedSnapshot(now, w.users, w.teams, inboxes, w.weights, w.units)
}

func channel(kind sb.ChannelKind, rule sb.RoutingRule) *sb.Channel {
	return &sb.Channel{ID: "ch-" + string(kind), AccountID: "acc", InboxID: "in1", Kind: kind, Routing: rule}
}

// want is what a case expects. Empty strings are not checked, except
// assignee, which is always checked.
type want struct {
	outcome  string
	assignee string
	mode     string
	strategy string
	tieBreak string // checked always for least_busy results
	retry    bool
	notify   bool
	fallback bool
	// dropped maps user id to the Dropped of its record entry; "-" means
	// the user must not appear in the record.
	dropped map[string]string
	// reason holds substrings the reason sentence must contain.
	reason []string
}

// decideCase is one row of a decision table.
type decideCase struct {
	name string
	w    world
	kind sb.ChannelKind // default chat
	rule sb.RoutingRule
	a    routing.Arrival
	rnd  routing.Rand // default seeded()
	want want
}

// pick is a Rand that always answers k and remembers the n it was asked.
type pick struct {
	k     int
	asked []int
}

func (p *pick) IntN(n int) int { p.asked = append(p.asked, n); return p.k }

func runCases(t *testing.T, cases []decideCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kind := c.kind
			if kind == "" {
				kind = sb.KindChat
			}
			s := c.w.snapshot(t)
			var r routing.Rand = seeded()
			if c.rnd != nil {
				r = c.rnd
			}
			res := s.Pool(channel(kind, c.rule)).Decide(c.a, r)
			check(t, s, res, c.want)
		})
	}
}

// check compares a result and its record with w.
func check(t *testing.T, s *routing.Snapshot, res routing.Result, w want) {
	t.Helper()
	if w.outcome == "" {
		w.outcome = sb.OutcomeAssigned
		if w.assignee == "" {
			w.outcome = sb.OutcomeUnassigned
		}
	}
	eq(t, "Outcome", res.Outcome, w.outcome)
	eq(t, "AssigneeID", res.AssigneeID, w.assignee)
	if w.mode != "" {
		eq(t, "Mode", res.Mode, w.mode)
	}
	if w.strategy != "" {
		eq(t, "Strategy", res.Strategy, w.strategy)
	}
	if w.strategy == routing.StrategyLeastBusy || w.tieBreak != "" {
		eq(t, "TieBreak", res.TieBreak, w.tieBreak)
	}
	eqb(t, "Retry", res.Retry, w.retry)
	eqb(t, "NotifyOwner", res.NotifyOwner, w.notify)
	eqb(t, "UsedFallback", res.UsedFallback, w.fallback)
	for _, sub := range w.reason {
		if !strings.Contains(res.Reason, sub) {
			t.Errorf("Reason = %q, want it to contain %q", res.Reason, sub)
		}
	}
	if w.dropped == nil {
		return
	}
	rec := res.Record(s)
	for id, want := range w.dropped {
		c, ok := candidate(rec, id)
		switch {
		case want == "-" && ok:
			t.Errorf("record lists %s (dropped %q), want absent", id, c.Dropped)
		case want != "-" && !ok:
			t.Errorf("record does not list %s; candidates %+v", id, rec.Candidates)
		case ok && c.Dropped != want:
			t.Errorf("record: %s dropped %q, want %q", id, c.Dropped, want)
		}
	}
}

// candidate finds the first record entry of id.
func candidate(d sb.Decision, id string) (sb.Candidate, bool) {
	for _, c := range d.Candidates {
		if c.UserID == id {
			return c, true
		}
	}
	return sb.Candidate{}, false
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func eqb(t *testing.T, what string, got, want bool) { t.Helper(); eq(t, what, got, want) }
