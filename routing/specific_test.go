package routing_test

import (
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// Rules R-A1 and R-M1: routing is off by default, and off (or a rule that
// assigns nobody) leaves the conversation in Unassigned.
func TestRoutingOff(t *testing.T) {
	w := world{users: []*sb.User{user("ann"), user("bob")}}
	off := specific(ids("ann", "bob"))
	off.Enabled = false
	runCases(t, []decideCase{
		{name: "R-A1 R-M1 zero rule is off", w: w, rule: sb.RoutingRule{},
			want: want{strategy: routing.StrategyNone, mode: sb.ModeUnassigned, reason: []string{"Automatic assignment is off for this channel, so it stays in Unassigned."}}},
		{name: "R-A1 R-M1 disabled specific rule assigns nobody", w: w, rule: off,
			want: want{strategy: routing.StrategyNone, mode: sb.ModeSpecific, dropped: map[string]string{"ann": "-"}, reason: []string{"off"}}},
		{name: "R-A1 R-M1 disabled on email too", w: w, kind: sb.KindEmail, rule: off,
			want: want{strategy: routing.StrategyNone}},
		{name: "R-M1 enabled rule in mode unassigned", w: w, rule: sb.RoutingRule{Enabled: true, Mode: sb.ModeUnassigned},
			want: want{strategy: routing.StrategyNone, mode: sb.ModeUnassigned, reason: []string{"assigns nobody"}}},
		{name: "R-A1 disabled contact-owner rule ignores the owner", w: w, rule: sb.RoutingRule{Mode: sb.ModeContactOwner}, a: known("ann"),
			want: want{strategy: routing.StrategyNone}},
		{name: "R-A1 enabled rule routes", w: w, rule: specific(ids("ann")),
			want: want{assignee: "ann", strategy: routing.StrategyLeastBusy}},
	})
}

// Rule R-A2: only users with a paid seat are candidates.
func TestPaidSeat(t *testing.T) {
	lost := world{users: []*sb.User{user("ann", noSeat, load(0)), user("bob", load(3))}}
	runCases(t, []decideCase{
		{name: "R-A2 user who lost their seat later is skipped", w: lost, rule: specific(ids("ann", "bob")),
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy, dropped: map[string]string{"ann": sb.DropNoSeat, "bob": ""}}},
		{name: "R-A2 seatless team main member is skipped", w: world{users: lost.users, teams: []*sb.Team{team("t", ids("ann", "bob"), nil)}},
			rule: specific(nil, "t"), want: want{assignee: "bob", strategy: routing.StrategyLeastBusy, dropped: map[string]string{"ann": sb.DropNoSeat}}},
		{name: "R-A2 nobody seated leaves it unassigned", w: world{users: []*sb.User{user("ann", noSeat)}}, kind: sb.KindEmail, rule: specific(ids("ann")),
			want: want{strategy: routing.StrategyRandom, dropped: map[string]string{"ann": sb.DropNoSeat}, reason: []string{"1 candidate has no paid seat; it stays in Unassigned."}}},
		{name: "R-A2 R-A12 already tried is reported before the missing seat", w: world{users: []*sb.User{user("ann", noSeat)}}, rule: specific(ids("ann")), a: routing.Arrival{Exclude: ids("ann")},
			want: want{strategy: routing.StrategyLeastBusy, dropped: map[string]string{"ann": sb.DropExcluded}, reason: []string{"Nobody could take it: 1 candidate was already tried; it stays in Unassigned."}}},
		{name: "R-A2 seat beats availability in the record", w: world{users: []*sb.User{user("ann", noSeat, away)}}, rule: specific(ids("ann")),
			want: want{strategy: routing.StrategyLeastBusy, dropped: map[string]string{"ann": sb.DropNoSeat}}},
		{name: "R-A2 fallback user without seat", w: world{users: []*sb.User{user("ann", noSeat)}}, rule: ownerRule(sb.Fallback{Mode: sb.FallbackUser, UserID: "ann"}),
			want: want{mode: "fallback_user", strategy: routing.StrategyFixedUser, fallback: true, dropped: map[string]string{"ann": sb.DropNoSeat}, reason: []string{"The fallback user, Ann, has no paid seat"}}},
	})
}

// Rules R-A3 and R-I4: routing only picks users with access to the
// channel's inbox, on every channel kind.
func TestInboxAccessInRouting(t *testing.T) {
	limited := &sb.Inbox{ID: "in1", TeamIDs: ids("sales")}
	sales := team("sales", ids("ann"), ids("bob"))
	w := world{users: []*sb.User{user("ann", load(5)), user("bob", load(2)), user("cat", load(0))}, teams: []*sb.Team{sales}, inboxes: []*sb.Inbox{limited}}
	var cases []decideCase
	for _, k := range []sb.ChannelKind{sb.KindChat, sb.KindMessenger, sb.KindWhatsApp, sb.KindCalling, sb.KindEmail, sb.KindForm} {
		cases = append(cases, decideCase{
			name: "R-A3 R-I4 only users with inbox access on " + string(k), w: w, kind: k, rule: specific(ids("cat", "ann")),
			want: want{assignee: "ann", dropped: map[string]string{"cat": sb.DropNoInboxAccess, "ann": ""}},
		})
	}
	cases = append(cases,
		decideCase{name: "R-A3 R-I4 extra member of an inbox team has access", w: w, rule: specific(ids("cat", "bob", "ann")),
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy, dropped: map[string]string{"cat": sb.DropNoInboxAccess}}},
		decideCase{name: "R-A3 nobody with access", w: w, rule: specific(ids("cat")),
			want: want{strategy: routing.StrategyLeastBusy, dropped: map[string]string{"cat": sb.DropNoInboxAccess}, reason: []string{"1 candidate has no access to this inbox"}}},
		decideCase{name: "R-A3 unknown inbox grants nobody", w: world{users: w.users, inboxes: []*sb.Inbox{}}, rule: specific(ids("cat")),
			want: want{dropped: map[string]string{"cat": sb.DropNoInboxAccess}}},
	)
	runCases(t, cases)
}

// Rule R-A4: a bot's hand-over step limits the candidates to its users.
func TestBotStep(t *testing.T) {
	w := world{users: []*sb.User{user("ann", load(0)), user("bob", load(4)), user("cat", load(1))}}
	rule := specific(ids("ann", "bob", "cat"))
	runCases(t, []decideCase{
		{name: "R-A4 only users on the step", w: w, rule: rule, a: routing.Arrival{StepUserIDs: ids("bob", "cat")},
			want: want{assignee: "cat", strategy: routing.StrategyLeastBusy, dropped: map[string]string{"ann": sb.DropNotOnStep, "bob": "", "cat": ""}}},
		{name: "R-A4 nil step list means no step", w: w, rule: rule,
			want: want{assignee: "ann", strategy: routing.StrategyLeastBusy}},
		{name: "R-A4 empty step list leaves nobody", w: w, rule: rule, a: routing.Arrival{StepUserIDs: []string{}},
			want: want{strategy: routing.StrategyLeastBusy, reason: []string{"3 candidates are not on the bot's hand-over step"}}},
		{name: "R-A4 step users outside the rule are not added", w: w, rule: specific(ids("ann")), a: routing.Arrival{StepUserIDs: ids("bob")},
			want: want{strategy: routing.StrategyLeastBusy, dropped: map[string]string{"ann": sb.DropNotOnStep, "bob": "-"}}},
	})
}

// Rule R-A5: a named team reaches its main members only.
func TestTeamMainMembers(t *testing.T) {
	users := []*sb.User{user("ann", load(3)), user("bob", load(0)), user("cat", load(1)), user("dan", load(2))}
	sales := team("sales", ids("ann", "cat"), ids("bob"))
	ops := team("ops", ids("dan", "ann"), nil)
	w := world{users: users, teams: []*sb.Team{sales, ops}}
	runCases(t, []decideCase{
		{name: "R-A5 team routes to main members only", w: w, rule: specific(nil, "sales"),
			want: want{assignee: "cat", strategy: routing.StrategyLeastBusy, dropped: map[string]string{"bob": "-", "ann": "", "cat": ""}}},
		{name: "R-A5 extra member named directly is a candidate", w: w, rule: specific(ids("bob"), "sales"),
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy}},
		{name: "R-A5 unknown team gives no candidate", w: w, rule: specific(nil, "gone"),
			want: want{strategy: routing.StrategyLeastBusy, reason: []string{"the rule names no users or team main members"}}},
		{name: "R-A5 team of only extra members gives no candidate", w: world{users: users, teams: []*sb.Team{team("x", nil, ids("bob"))}}, rule: specific(nil, "x"),
			want: want{strategy: routing.StrategyLeastBusy, dropped: map[string]string{"bob": "-"}}},
	})
	t.Run("R-A5 R-A12 a user listed twice is considered once, in rule order", func(t *testing.T) {
		s := w.snapshot(t)
		res := s.Pool(channel(sb.KindChat, specific(ids("dan"), "sales", "ops"))).Decide(routing.Arrival{}, nil)
		eq(t, "AssigneeID", res.AssigneeID, "cat")
		rec := res.Record(s)
		var got []string
		for _, c := range rec.Candidates {
			got = append(got, c.UserID+"/"+c.Via+"/"+c.Dropped)
		}
		want := []string{"dan/user/", "ann/team:sales/", "cat/team:sales/", "dan/team:ops/" + sb.DropDuplicate, "ann/team:ops/" + sb.DropDuplicate}
		eq(t, "candidates", len(got), len(want))
		for i := range min(len(got), len(want)) {
			eq(t, "candidate", got[i], want[i])
		}
	})
}

// Rule R-A6: specific users and teams; random for email and forms, least
// busy for chat-like channels, unassigned when nobody is left.
func TestSpecific(t *testing.T) {
	users := []*sb.User{user("ann", load(2)), user("bob", load(1)), user("cat", load(3), away)}
	w := world{users: users}
	rule := specific(ids("ann", "bob", "cat"))
	var cases []decideCase
	for _, k := range []sb.ChannelKind{sb.KindChat, sb.KindMessenger, sb.KindWhatsApp, sb.KindCalling} {
		cases = append(cases, decideCase{name: "R-A6 least busy on " + string(k), w: w, kind: k, rule: rule,
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy, mode: sb.ModeSpecific,
				reason: []string{"Least busy: Bob has 1 open chat, fewer than the other candidate."}}})
	}
	for _, k := range []sb.ChannelKind{sb.KindEmail, sb.KindForm} {
		// The random pick ignores load: index 0 of the two available is the busier Ann.
		cases = append(cases, decideCase{name: "R-A6 random on " + string(k), w: w, kind: k, rule: rule, rnd: &pick{k: 0},
			want: want{assignee: "ann", strategy: routing.StrategyRandom, mode: sb.ModeSpecific, reason: []string{"Assigned at random to Ann among 2 available candidates."}}})
		cases = append(cases, decideCase{name: "R-A6 random on " + string(k) + ", second pick", w: w, kind: k, rule: rule, rnd: &pick{k: 1},
			want: want{assignee: "bob", strategy: routing.StrategyRandom, reason: []string{"Assigned at random to Bob among 2 available candidates."}}})
	}
	allGone := world{users: []*sb.User{user("ann", noSeat), user("bob", away)}}
	cases = append(cases,
		decideCase{name: "R-A6 none left on chat stays unassigned", w: allGone, rule: specific(ids("ann", "bob")),
			want: want{outcome: sb.OutcomeUnassigned, strategy: routing.StrategyLeastBusy, retry: true,
				dropped: map[string]string{"ann": sb.DropNoSeat, "bob": sb.DropAway},
				reason:  []string{"Nobody could take it: 1 candidate has no paid seat and 1 is away; it waits for the first to become free."}}},
		decideCase{name: "R-A6 none left on email stays unassigned", w: allGone, kind: sb.KindEmail, rule: specific(ids("ann", "bob")),
			want: want{outcome: sb.OutcomeUnassigned, strategy: routing.StrategyRandom, retry: true}},
		decideCase{name: "R-A6 no candidates at all", w: allGone, rule: specific(nil),
			want: want{strategy: routing.StrategyLeastBusy, reason: []string{"names no users"}}},
		decideCase{name: "R-A6 unknown user in the rule", w: allGone, kind: sb.KindForm, rule: specific(ids("ghost")),
			want: want{strategy: routing.StrategyRandom, dropped: map[string]string{"ghost": sb.DropUnknownUser}, reason: []string{"1 candidate no longer exists; it stays in Unassigned."}}},
		decideCase{name: "R-A6 one candidate left on email", w: w, kind: sb.KindEmail, rule: specific(ids("ann", "cat")),
			want: want{assignee: "ann", strategy: routing.StrategyRandom, reason: []string{"Assigned to Ann, the only available candidate."}}},
	)
	runCases(t, cases)
}

// Rule R-A6: on email and form channels the pick is uniform: over 3000
// decisions each of 3 candidates gets between 25% and 42%.
func TestRandomIsUniform(t *testing.T) {
	w := world{users: []*sb.User{user("ann", load(9)), user("bob"), user("cat", capacity(1), load(5)), user("dan", away)}}
	for _, k := range []sb.ChannelKind{sb.KindEmail, sb.KindForm} {
		t.Run("R-A6 uniform random on "+string(k), func(t *testing.T) {
			s := w.snapshot(t)
			p := s.Pool(channel(k, specific(ids("ann", "bob", "cat", "dan"))))
			r := seeded()
			const n = 3000
			got := map[string]int{}
			for range n {
				res := p.Decide(routing.Arrival{}, r)
				got[res.AssigneeID]++
				s.Assigned(res.AssigneeID, k) // email load does not count
			}
			if len(got) != 3 {
				t.Fatalf("winners %v, want exactly ann, bob and cat", got)
			}
			for id, c := range got {
				if share := float64(c) / n; share < 0.25 || share > 0.42 {
					t.Errorf("%s won %.1f%% of %d, want 25%%..42%%", id, 100*share, n)
				}
			}
		})
	}
}

// Rule R-A7: only available users by default; switched off, availability
// is ignored.
func TestOnlyAvailable(t *testing.T) {
	w := world{users: []*sb.User{user("ann", away, load(0)), user("bob", load(2)), user("cat", setBy("boss"), away, load(1))}}
	rule := specific(ids("ann", "bob", "cat"))
	on := true
	explicit := rule
	explicit.OnlyAvailable = &on
	allAway := world{users: []*sb.User{user("ann", away), user("cat", away)}}
	runCases(t, []decideCase{
		{name: "R-A7 on by default", w: w, rule: rule,
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy, dropped: map[string]string{"ann": sb.DropAway, "cat": sb.DropAway, "bob": ""}}},
		{name: "R-A7 on explicitly", w: w, rule: explicit, want: want{assignee: "bob", strategy: routing.StrategyLeastBusy}},
		{name: "R-A7 off ignores availability", w: w, rule: anyStatus(rule),
			want: want{assignee: "ann", strategy: routing.StrategyLeastBusy, dropped: map[string]string{"ann": "", "cat": ""}}},
		{name: "R-A7 off ignores availability on email", w: world{users: []*sb.User{user("ann", away)}}, kind: sb.KindEmail, rule: anyStatus(specific(ids("ann"))),
			want: want{assignee: "ann", strategy: routing.StrategyRandom, reason: []string{"Assigned to Ann, the only candidate left."}}},
		{name: "R-A7 nobody available stays unassigned", w: allAway, rule: specific(ids("ann", "cat")),
			want: want{strategy: routing.StrategyLeastBusy, retry: true, reason: []string{"Nobody could take it: 2 candidates are away; it waits for the first to become free."}}},
		{name: "R-A7 R-X1 outside working hours counts as away", w: world{users: []*sb.User{user("ann", hours("", rng(time.Monday, 9, 0, 17, 0))), user("bob", load(7))}}, rule: specific(ids("ann", "bob")),
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy, dropped: map[string]string{"ann": sb.DropAway}}},
	})
}

// Rule R-A9: least busy, then recently active, then least recently
// assigned (never first), then rule order; TieBreak names the level that
// decided.
func TestLeastBusy(t *testing.T) {
	fresh, stale := activeAgo(30*time.Second), activeAgo(10*time.Minute)
	rule := specific(ids("ann", "bob", "cat"))
	runCases(t, []decideCase{
		{name: "R-A9 fewest open chats wins, no tie-break", w: world{users: []*sb.User{user("ann", load(3), fresh), user("bob", load(1)), user("cat", load(2), fresh)}}, rule: rule,
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy, tieBreak: "", reason: []string{"Least busy: Bob has 1 open chat, fewer than the 2 other candidates."}}},
		{name: "R-A9 tie goes to the recently active", w: world{users: []*sb.User{user("ann", load(1), stale), user("bob", load(1), fresh), user("cat", load(1))}}, rule: rule,
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy, tieBreak: routing.TieRecentlyActive,
				reason: []string{"Least busy: Bob has 1 open chat, as do 2 others; only Bob was active in the inbox in the last 2 minutes."}}},
		{name: "R-A9 active exactly at the window's edge counts", w: world{users: []*sb.User{user("ann", load(1)), user("bob", load(1), activeAgo(routing.ActiveWindow))}}, rule: rule,
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy, tieBreak: routing.TieRecentlyActive}},
		{name: "R-A9 recent activity does not beat a lower load", w: world{users: []*sb.User{user("ann", load(2), fresh), user("bob", load(1), stale)}}, rule: rule,
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy, tieBreak: ""}},
		{name: "R-A9 remaining tie goes to the least recently assigned", w: world{users: []*sb.User{
			user("ann", load(1), fresh, assignedAgo(time.Minute)), user("bob", load(1), fresh, assignedAgo(time.Hour)), user("cat", load(1), stale, assignedAgo(24*time.Hour))}}, rule: rule,
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy, tieBreak: routing.TieLeastRecentlyAssigned,
				reason: []string{"Least busy: Bob has 1 open chat, as do 2 others; of those active in the inbox in the last 2 minutes, Bob was assigned a chat longest ago."}}},
		{name: "R-A9 never assigned counts as longest ago", w: world{users: []*sb.User{user("ann", load(0), assignedAgo(time.Hour)), user("bob", load(0), assignedAgo(24*time.Hour)), user("cat", load(0))}}, rule: rule,
			want: want{assignee: "cat", strategy: routing.StrategyLeastBusy, tieBreak: routing.TieLeastRecentlyAssigned, reason: []string{"Least busy: Cat has 0 open chats, as do 2 others; only Cat has never been assigned a chat."}}},
		{name: "R-A9 full tie goes to rule order", w: world{users: []*sb.User{user("ann", load(2), assignedAgo(time.Hour)), user("bob", load(2), assignedAgo(time.Hour)), user("cat", load(2), assignedAgo(time.Hour))}},
			rule: specific(ids("cat", "bob", "ann")),
			want: want{assignee: "cat", strategy: routing.StrategyLeastBusy, tieBreak: routing.TieRuleOrder, reason: []string{"Cat comes first in the rule."}}},
		{name: "R-A9 rule order among the recently active", w: world{users: []*sb.User{user("ann", load(0)), user("bob", load(0), fresh), user("cat", load(0), fresh)}}, rule: rule,
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy, tieBreak: routing.TieRuleOrder}},
		{name: "R-A9 a lower load after a tie resets the tie", w: world{users: []*sb.User{user("ann", load(2), fresh), user("bob", load(2)), user("cat", load(1))}}, rule: rule,
			want: want{assignee: "cat", strategy: routing.StrategyLeastBusy, tieBreak: ""}},
		{name: "R-A9 one candidate left", w: world{users: []*sb.User{user("ann", load(4)), user("bob", away), user("cat", noSeat)}}, rule: rule,
			want: want{assignee: "ann", strategy: routing.StrategyLeastBusy, tieBreak: "", reason: []string{"Least busy: Ann is the only candidate left and has 4 open chats."}}},
	})
}

// Rule R-A10: a user at their chat capacity is not a candidate; when
// capacity alone leaves nobody the conversation waits. Email and forms
// ignore capacity.
func TestCapacity(t *testing.T) {
	full := world{users: []*sb.User{user("ann", capacity(2), load(2)), user("bob", capacity(3), load(5)), user("cat", away)}}
	rule := specific(ids("ann", "bob", "cat"))
	var cases []decideCase
	for _, k := range []sb.ChannelKind{sb.KindChat, sb.KindMessenger, sb.KindWhatsApp, sb.KindCalling} {
		cases = append(cases, decideCase{name: "R-A10 waiting when everyone is at capacity on " + string(k), w: full, kind: k, rule: rule,
			want: want{outcome: sb.OutcomeWaiting, strategy: routing.StrategyLeastBusy, retry: true,
				dropped: map[string]string{"ann": sb.DropAtCapacity, "bob": sb.DropAtCapacity, "cat": sb.DropAway},
				reason:  []string{"Nobody could take it: 1 candidate is away and 2 are at capacity; it waits for the first to become free."}}})
	}
	for _, k := range []sb.ChannelKind{sb.KindEmail, sb.KindForm} {
		cases = append(cases, decideCase{name: "R-A10 capacity ignored on " + string(k), w: full, kind: k, rule: specific(ids("ann")),
			want: want{assignee: "ann", strategy: routing.StrategyRandom, dropped: map[string]string{"ann": ""}}})
	}
	cases = append(cases,
		decideCase{name: "R-A10 user under capacity wins over a less busy full one", w: world{users: []*sb.User{user("ann", capacity(1), load(1)), user("bob", capacity(5), load(4))}}, rule: rule,
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy, dropped: map[string]string{"ann": sb.DropAtCapacity}}},
		decideCase{name: "R-A10 zero capacity means no limit", w: world{users: []*sb.User{user("ann", load(40))}}, rule: rule,
			want: want{assignee: "ann", strategy: routing.StrategyLeastBusy}},
		decideCase{name: "R-A10 away and no capacity problem is unassigned, not waiting", w: world{users: []*sb.User{user("cat", away)}}, rule: rule,
			want: want{outcome: sb.OutcomeUnassigned, strategy: routing.StrategyLeastBusy, retry: true}},
		decideCase{name: "R-A10 availability is checked before capacity", w: world{users: []*sb.User{user("ann", away, capacity(1), load(1))}}, rule: rule,
			want: want{outcome: sb.OutcomeUnassigned, retry: true, dropped: map[string]string{"ann": sb.DropAway}}},
		decideCase{name: "R-A10 permanent drops alone do not retry", w: world{users: []*sb.User{user("ann", noSeat, capacity(1), load(1))}}, rule: rule,
			want: want{outcome: sb.OutcomeUnassigned, retry: false, dropped: map[string]string{"ann": sb.DropNoSeat}}},
	)
	runCases(t, cases)
}
