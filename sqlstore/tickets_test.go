package sqlstore

import (
	"strings"
	"testing"
)

// TestTicketQueryPlans: on SQLite the routing batch's ticket lookups and
// R-T2's follow probe indexes per key, never scanning tickets (they run in
// every batch that has a ticket channel).
func TestTicketQueryPlans(t *testing.T) {
	s := openSQLiteTest(t)
	cases := []struct {
		q    *query
		args int
		want string
	}{
		{qContactTicketCounts.sqlite, 2, "tickets_contact (account_id=? AND contact_id=?)"},
		{qFollowAssignees.sqlite, 3, "(account_id=? AND id=?)"},
		{qWebhookDeliveries, 5, "webhook_deliveries_recent (account_id=? AND webhook_id=?"},
		{qLastEventID, 1, "events_account (account_id=?)"},
	}
	for _, c := range cases {
		all := sqlitePlan(t, s, c.q, c.args)
		if !strings.Contains(all, c.want) || strings.Contains(all, "SCAN tickets") {
			t.Errorf("%s: plan does not use %s:\n%s", c.q.name, c.want, all)
		}
	}
}
