package routing_test

import (
	"testing"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// Rule R-A8: contact owner, away or not; otherwise the fallback.
func TestContactOwner(t *testing.T) {
	users := []*sb.User{
		user("ann", load(1)),                       // owner, available
		user("oli", away),                          // owner, away
		user("sam", noSeat),                        // owner, no seat
		user("fay", capacity(2), load(2)),          // owner, at capacity
		user("bob", load(3)),                       // fallback user
		user("cat", load(0)), user("dan", load(2)), // fallback team
	}
	w := world{users: users, teams: []*sb.Team{team("t", ids("cat", "dan"), nil)}}
	toBob := ownerRule(sb.Fallback{Mode: sb.FallbackUser, UserID: "bob"})
	toTeam := ownerRule(sb.Fallback{Mode: sb.FallbackSpecific, UserIDs: ids("bob"), TeamIDs: ids("t")})
	toNobody := ownerRule(sb.Fallback{Mode: sb.FallbackNone})
	newContact := routing.Arrival{Contact: &sb.Contact{ID: "c9", OwnerID: "ann"}} // not ContactKnown
	runCases(t, []decideCase{
		{name: "R-A8 goes to the owner", w: w, rule: toBob, a: known("ann"),
			want: want{assignee: "ann", mode: sb.ModeContactOwner, strategy: routing.StrategyOwner, dropped: map[string]string{"ann": "", "bob": "-"},
				reason: []string{"Assigned to the contact owner, Ann."}}},
		{name: "R-A8 owner is not compared on load", w: w, rule: toTeam, a: known("ann"),
			want: want{assignee: "ann", strategy: routing.StrategyOwner, dropped: map[string]string{"cat": "-"}}},
		{name: "R-A8 away owner still gets it and is notified", w: w, rule: toBob, a: known("oli"),
			want: want{assignee: "oli", strategy: routing.StrategyOwner, notify: true, dropped: map[string]string{"oli": sb.DropOwnerAway},
				reason: []string{"Assigned to the contact owner, Oli, who is away and will be notified by email."}}},
		{name: "R-A8 away owner gets it on email too", w: w, kind: sb.KindEmail, rule: toNobody, a: known("oli"),
			want: want{assignee: "oli", strategy: routing.StrategyOwner, notify: true}},
		{name: "R-A8 owner without seat: fallback user", w: w, rule: toBob, a: known("sam"),
			want: want{assignee: "bob", mode: "fallback_user", strategy: routing.StrategyFixedUser, fallback: true,
				dropped: map[string]string{"sam": sb.DropNoSeat, "bob": ""},
				reason:  []string{"The contact owner, Sam, has no paid seat, so the fallback applies. Assigned to the fallback user, Bob."}}},
		{name: "R-A8 R-A10 owner at capacity on chat: fallback", w: w, rule: toBob, a: known("fay"),
			want: want{assignee: "bob", mode: "fallback_user", fallback: true, dropped: map[string]string{"fay": sb.DropAtCapacity}}},
		{name: "R-A8 R-A10 owner at capacity on email keeps it", w: w, kind: sb.KindEmail, rule: toBob, a: known("fay"),
			want: want{assignee: "fay", strategy: routing.StrategyOwner}},
		{name: "R-A8 unknown owner: fallback", w: w, rule: toBob, a: known("gone"),
			want: want{assignee: "bob", fallback: true, dropped: map[string]string{"gone": sb.DropUnknownUser}}},
		{name: "R-A8 excluded owner: fallback", w: w, rule: toBob, a: routing.Arrival{Contact: &sb.Contact{OwnerID: "ann"}, ContactKnown: true, Exclude: ids("ann")},
			want: want{assignee: "bob", fallback: true, dropped: map[string]string{"ann": sb.DropExcluded}}},
		{name: "R-A8 owner without inbox access: fallback", w: world{users: users, teams: w.teams, inboxes: []*sb.Inbox{{ID: "in1", TeamIDs: ids("t")}}},
			rule: ownerRule(sb.Fallback{Mode: sb.FallbackSpecific, TeamIDs: ids("t")}), a: known("ann"),
			want: want{assignee: "cat", mode: "fallback_specific", fallback: true, dropped: map[string]string{"ann": sb.DropNoInboxAccess}}},
		{name: "R-A8 new contact: fallback user", w: w, rule: toBob, a: newContact,
			want: want{assignee: "bob", mode: "fallback_user", strategy: routing.StrategyFixedUser, fallback: true, dropped: map[string]string{"ann": "-"},
				reason: []string{"The contact is new or not identified, so the fallback applies."}}},
		{name: "R-A8 no contact: fallback user", w: w, rule: toBob,
			want: want{assignee: "bob", mode: "fallback_user", fallback: true}},
		{name: "R-A8 contact without owner: fallback specific least busy", w: w, rule: toTeam, a: known(""),
			want: want{assignee: "cat", mode: "fallback_specific", strategy: routing.StrategyLeastBusy, fallback: true,
				dropped: map[string]string{"bob": "", "cat": "", "dan": ""}, reason: []string{"The contact has no owner, so the fallback applies. Least busy: Cat has 0 open chats"}}},
		{name: "R-A8 new contact: fallback specific random on email", w: w, kind: sb.KindEmail, rule: toTeam, a: newContact, rnd: &pick{k: 2},
			want: want{assignee: "dan", mode: "fallback_specific", strategy: routing.StrategyRandom, fallback: true}},
		{name: "R-A8 new contact: fallback none", w: w, rule: toNobody, a: newContact,
			want: want{mode: "fallback_none", strategy: routing.StrategyNone, fallback: true, reason: []string{"The fallback assigns nobody, so it stays in Unassigned."}}},
		{name: "R-A8 empty fallback mode is none", w: w, rule: ownerRule(sb.Fallback{}), a: known(""),
			want: want{mode: "fallback_none", strategy: routing.StrategyNone, fallback: true}},
		{name: "R-A8 owner without seat: fallback none", w: w, rule: toNobody, a: known("sam"),
			want: want{mode: "fallback_none", strategy: routing.StrategyNone, fallback: true, dropped: map[string]string{"sam": sb.DropNoSeat}}},
		{name: "R-A8 R-A10 owner at capacity, fallback none: waits", w: w, rule: toNobody, a: known("fay"),
			want: want{outcome: sb.OutcomeWaiting, mode: "fallback_none", fallback: true, retry: true, reason: []string{"waits for the owner"}}},
		{name: "R-A8 R-A7 away fallback user is skipped", w: world{users: []*sb.User{user("bob", away)}}, rule: toBob, a: newContact,
			want: want{mode: "fallback_user", strategy: routing.StrategyFixedUser, fallback: true, retry: true, dropped: map[string]string{"bob": sb.DropAway},
				reason: []string{"The fallback user, Bob, is away, so it waits until they become free."}}},
		{name: "R-A8 R-A7 away fallback user when availability is off", w: world{users: []*sb.User{user("bob", away)}}, rule: anyStatus(toBob), a: newContact,
			want: want{assignee: "bob", mode: "fallback_user", fallback: true}},
		{name: "R-A8 R-A10 fallback user at capacity: waits", w: world{users: []*sb.User{user("bob", capacity(1), load(1))}}, rule: toBob, a: newContact,
			want: want{outcome: sb.OutcomeWaiting, mode: "fallback_user", fallback: true, retry: true}},
		{name: "R-A8 unknown fallback user", w: w, rule: ownerRule(sb.Fallback{Mode: sb.FallbackUser, UserID: "gone"}), a: newContact,
			want: want{mode: "fallback_user", fallback: true, dropped: map[string]string{"gone": sb.DropUnknownUser}, reason: []string{"The fallback user, gone, no longer exists"}}},
		{name: "R-A8 fallback user not set", w: w, rule: ownerRule(sb.Fallback{Mode: sb.FallbackUser}), a: newContact,
			want: want{mode: "fallback_user", fallback: true, reason: []string{"No fallback user is set"}}},
	})
}

// Rule R-X4: a returning conversation goes to its previous assignee only if
// they can still take it; otherwise it is routed afresh.
func TestPreviousAssignee(t *testing.T) {
	users := []*sb.User{user("ann", load(4)), user("bob", load(0)), user("oli", away), user("sam", noSeat), user("fay", capacity(1), load(1))}
	w := world{users: users}
	rule := specific(ids("ann", "bob", "oli", "sam", "fay"))
	off := rule
	off.Enabled = false
	back := func(prev string) routing.Arrival {
		return routing.Arrival{Trigger: sb.TriggerReturning, Previous: prev}
	}
	runCases(t, []decideCase{
		{name: "R-X4 previous assignee kept over a less busy candidate", w: w, rule: rule, a: back("ann"),
			want: want{assignee: "ann", strategy: routing.StrategyPreviousAssignee, mode: sb.ModeSpecific, dropped: map[string]string{"ann": "", "bob": "-"},
				reason: []string{"Assigned to Ann, the previous assignee, who can still take it."}}},
		{name: "R-X4 previous assignee kept while routing is off", w: w, rule: off, a: back("ann"),
			want: want{assignee: "ann", strategy: routing.StrategyPreviousAssignee}},
		{name: "R-X4 previous assignee kept in contact-owner mode", w: w, rule: ownerRule(sb.Fallback{}), a: routing.Arrival{Previous: "ann", Contact: &sb.Contact{OwnerID: "bob"}, ContactKnown: true},
			want: want{assignee: "ann", strategy: routing.StrategyPreviousAssignee, mode: sb.ModeContactOwner}},
		{name: "R-X4 away previous assignee: routed afresh", w: w, rule: rule, a: back("oli"),
			want: want{assignee: "bob", strategy: routing.StrategyLeastBusy, dropped: map[string]string{"oli": sb.DropAway, "bob": ""},
				reason: []string{"The previous assignee, Oli, is away, so it was routed afresh. Least busy: Bob"}}},
		{name: "R-X4 availability required even when the rule ignores it", w: w, rule: anyStatus(specific(ids("bob"))), a: back("oli"),
			want: want{assignee: "bob", dropped: map[string]string{"oli": sb.DropAway}}},
		{name: "R-X4 previous assignee without seat: routed afresh", w: w, rule: rule, a: back("sam"),
			want: want{assignee: "bob", dropped: map[string]string{"sam": sb.DropNoSeat}}},
		{name: "R-X4 R-A10 previous assignee at capacity: routed afresh", w: w, rule: rule, a: back("fay"),
			want: want{assignee: "bob", dropped: map[string]string{"fay": sb.DropAtCapacity}}},
		{name: "R-X4 R-A10 previous assignee at capacity on email is kept", w: w, kind: sb.KindEmail, rule: rule, a: back("fay"),
			want: want{assignee: "fay", strategy: routing.StrategyPreviousAssignee}},
		{name: "R-X4 unknown previous assignee: routed afresh", w: w, rule: rule, a: back("gone"),
			want: want{assignee: "bob", dropped: map[string]string{"gone": sb.DropUnknownUser}}},
		{name: "R-X4 R-X3 already tried previous assignee", w: w, rule: rule, a: routing.Arrival{Previous: "ann", Exclude: ids("ann")},
			want: want{assignee: "bob", dropped: map[string]string{"ann": sb.DropExcluded}}},
		{name: "R-X4 away previous assignee with routing off: unassigned, no retry", w: w, rule: off, a: back("oli"),
			want: want{strategy: routing.StrategyNone, retry: false, dropped: map[string]string{"oli": sb.DropAway},
				reason: []string{"The previous assignee, Oli, is away, so it was routed afresh. Automatic assignment is off"}}},
	})
}

// Rule R-V3: an away agent's chat is routed afresh to someone online,
// never back to them; unassigned if nobody is online.
func TestReassignReplies(t *testing.T) {
	users := []*sb.User{user("ann", away, load(0)), user("bob", away, load(0)), user("cat", load(3))}
	rule := anyStatus(specific(ids("ann", "bob", "cat")))
	rerouted := routing.Arrival{Trigger: sb.TriggerReassignReplies, Exclude: ids("ann"), ForceAvailable: true}
	runCases(t, []decideCase{
		{name: "R-V3 rule ignoring availability would pick an away agent", w: world{users: users}, rule: rule,
			want: want{assignee: "ann"}},
		{name: "R-V3 re-routed to someone online, never the away assignee", w: world{users: users}, rule: rule, a: rerouted,
			want: want{assignee: "cat", strategy: routing.StrategyLeastBusy, dropped: map[string]string{"ann": sb.DropExcluded, "bob": sb.DropAway, "cat": ""}}},
		{name: "R-V3 nobody online: unassigned", w: world{users: users}, rule: anyStatus(specific(ids("ann", "bob"))), a: rerouted,
			want: want{strategy: routing.StrategyLeastBusy, retry: true, dropped: map[string]string{"ann": sb.DropExcluded, "bob": sb.DropAway},
				reason: []string{"Nobody could take it: 1 candidate was already tried and 1 is away"}}},
		{name: "R-V3 R-A8 away owner is not kept when forced online", w: world{users: users}, rule: ownerRule(sb.Fallback{Mode: sb.FallbackUser, UserID: "cat"}),
			a:    routing.Arrival{Contact: &sb.Contact{OwnerID: "bob"}, ContactKnown: true, ForceAvailable: true},
			want: want{assignee: "cat", fallback: true, dropped: map[string]string{"bob": sb.DropAway}, reason: []string{"The contact owner, Bob, is away, so the fallback applies."}}},
	})
}

// Rule R-X2: Eligible tells the backlog drain whether Decide could pick a
// user now, and why not.
func TestEligible(t *testing.T) {
	users := []*sb.User{user("ann"), user("oli", away), user("fay", capacity(1), load(1)), user("sam", noSeat), user("eve")}
	s := world{users: users, teams: []*sb.Team{team("t", ids("eve", "ann"), nil)}}.snapshot(t)
	rule := specific(ids("ann", "oli", "fay", "sam", "gone"), "t")
	off := rule
	off.Enabled = false
	chat := s.Pool(channel(sb.KindChat, rule))
	email := s.Pool(&sb.Channel{ID: "mail", InboxID: "in1", Kind: sb.KindEmail, Routing: rule})
	owner := s.Pool(&sb.Channel{ID: "own", InboxID: "in1", Kind: sb.KindChat, Routing: ownerRule(sb.Fallback{Mode: sb.FallbackSpecific, UserIDs: ids("eve")})})
	offPool := s.Pool(&sb.Channel{ID: "off", InboxID: "in1", Kind: sb.KindChat, Routing: off})
	cases := []struct {
		name string
		p    *routing.Pool
		user string
		a    routing.Arrival
		ok   bool
		drop string
	}{
		{"R-X2 available candidate", chat, "ann", routing.Arrival{}, true, ""},
		{"R-X2 team main member", chat, "eve", routing.Arrival{}, true, ""},
		{"R-X2 away candidate", chat, "oli", routing.Arrival{}, false, sb.DropAway},
		{"R-X2 candidate at capacity", chat, "fay", routing.Arrival{}, false, sb.DropAtCapacity},
		{"R-X2 capacity does not count on email", email, "fay", routing.Arrival{}, true, ""},
		{"R-X2 seatless candidate", chat, "sam", routing.Arrival{}, false, sb.DropNoSeat},
		{"R-X2 unknown user", chat, "gone", routing.Arrival{}, false, sb.DropUnknownUser},
		{"R-X2 user outside the rule", owner, "ann", known(""), false, sb.DropNotCandidate},
		{"R-X2 excluded", chat, "ann", routing.Arrival{Exclude: ids("ann")}, false, sb.DropExcluded},
		{"R-X2 not on the bot step", chat, "ann", routing.Arrival{StepUserIDs: ids("eve")}, false, sb.DropNotOnStep},
		{"R-X2 rule off", offPool, "ann", routing.Arrival{}, false, sb.DropNotCandidate},
		{"R-X2 R-X4 previous assignee takes precedence", chat, "eve", routing.Arrival{Previous: "ann"}, false, sb.DropNotCandidate},
		{"R-X2 R-X4 previous assignee is eligible even with the rule off", offPool, "ann", routing.Arrival{Previous: "ann"}, true, ""},
		{"R-X2 R-X4 away previous assignee", offPool, "oli", routing.Arrival{Previous: "oli"}, false, sb.DropAway},
		{"R-X2 R-A8 owner takes precedence", owner, "eve", known("ann"), false, sb.DropNotCandidate},
		{"R-X2 R-A8 away owner is eligible", owner, "oli", known("oli"), true, ""},
		{"R-X2 R-A8 owner at capacity", owner, "fay", known("fay"), false, sb.DropAtCapacity},
		{"R-X2 R-A8 fallback candidate when the owner is at capacity", owner, "eve", known("fay"), true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, drop := c.p.Eligible(c.user, c.a)
			if ok != c.ok || drop != c.drop {
				t.Errorf("Eligible(%s) = %v, %q; want %v, %q", c.user, ok, drop, c.ok, c.drop)
			}
			// Eligible agrees with Decide: a user alone eligible is picked.
			res := c.p.Decide(c.a, seeded())
			if c.ok && res.Outcome == sb.OutcomeAssigned {
				if ok2, _ := c.p.Eligible(res.AssigneeID, c.a); !ok2 {
					t.Errorf("Decide picked %s, whom Eligible refuses", res.AssigneeID)
				}
			}
		})
	}
}
