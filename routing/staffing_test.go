package routing_test

import (
	"testing"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// TestStaffing: a chat channel is available by user availability when at
// least one candidate of its rule is available (R-V4), and everyone at
// capacity is told apart from everyone away (R-A10). Candidates are those
// with inbox access (R-A3) and, for a bot flow, on the hand-over step (R-A4).
func TestStaffing(t *testing.T) {
	closedInbox := &sb.Inbox{ID: "in1", AccountID: "acc", Name: "VIP", TeamIDs: []string{"vip"}}
	cases := []struct {
		name string
		w    world
		rule sb.RoutingRule
		arr  routing.Arrival
		want routing.Staffing
	}{
		{"R-V4 one of two available", world{users: []*sb.User{user("ann"), user("bob", away)}},
			specific(ids("ann", "bob")), routing.Arrival{}, routing.Staffing{Candidates: 2, Available: 1, Free: 1}},
		{"R-V4 all away", world{users: []*sb.User{user("ann", away), user("bob", away)}},
			specific(ids("ann", "bob")), routing.Arrival{}, routing.Staffing{Candidates: 2}},
		{"R-A10 available but at capacity", world{users: []*sb.User{user("ann", load(2), capacity(2)), user("bob", away)}},
			specific(ids("ann", "bob")), routing.Arrival{}, routing.Staffing{Candidates: 2, Available: 1}},
		{"R-A2 unseated users do not staff a rule", world{users: []*sb.User{user("ann", noSeat)}},
			specific(ids("ann")), routing.Arrival{}, routing.Staffing{}},
		{"R-A5 team main members only, counted once", world{users: []*sb.User{user("ann"), user("bob")}, teams: []*sb.Team{team("t", ids("ann"), ids("bob"))}},
			specific(ids("ann"), "t"), routing.Arrival{}, routing.Staffing{Candidates: 1, Available: 1, Free: 1}},
		{"R-A3 only users with access to the chatflow's inbox", world{users: []*sb.User{user("ann"), user("bob")}, teams: []*sb.Team{team("vip", ids("ann"), nil)}, inboxes: []*sb.Inbox{closedInbox}},
			specific(ids("ann", "bob")), routing.Arrival{}, routing.Staffing{Candidates: 1, Available: 1, Free: 1}},
		{"R-A4 only the bot step's users", world{users: []*sb.User{user("ann"), user("bob")}},
			specific(ids("ann", "bob")), routing.Arrival{StepUserIDs: ids("bob")}, routing.Staffing{Candidates: 1, Available: 1, Free: 1}},
		{"routing off: anyone with inbox access", world{users: []*sb.User{user("ann", noSeat), user("bob", away)}},
			sb.RoutingRule{}, routing.Arrival{}, routing.Staffing{Candidates: 2, Available: 1, Free: 1}},
		{"R-A8 owner plus fallback, owner once", world{users: []*sb.User{user("ann"), user("bob", away)}},
			ownerRule(sb.Fallback{Mode: sb.FallbackSpecific, UserIDs: ids("ann", "bob")}), known("ann"), routing.Staffing{Candidates: 2, Available: 1, Free: 1}},
		{"R-A8 new visitor: the fallback user", world{users: []*sb.User{user("ann"), user("bob", away)}},
			ownerRule(sb.Fallback{Mode: sb.FallbackUser, UserID: "bob"}), routing.Arrival{}, routing.Staffing{Candidates: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			snap := tc.w.snapshot(t)
			got := snap.Pool(channel(sb.KindChat, tc.rule)).Staffing(tc.arr)
			if got != tc.want {
				t.Errorf("Staffing = %+v, want %+v", got, tc.want)
			}
		})
	}
}
