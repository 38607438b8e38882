package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// Rule R-X5 through the service: with weights on, least busy and capacity
// count units across the batcher, manual close, the backlog drain and the
// SQLite snapshot cache, and the record shows units.
func TestWeightedCapacityR_X5(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann, bob := e.agent("ann", 0), e.agent("bob", 0)
		email := e.channel(sb.KindEmail, specific(ann))
		chat := e.channel(sb.KindChat, specific(ann, bob))

		_, err := e.svc.SetWeights(e.ctx, ann, app.WeightsInput{Enabled: true})
		wantKind(t, "R-X5 an agent sets weights", err, sb.Forbidden)
		_, err = e.svc.Weights(e.ctx, ann)
		wantKind(t, "R-X5 an agent reads weights", err, sb.Forbidden)
		_, err = e.svc.SetWeights(e.ctx, e.admin, app.WeightsInput{Enabled: true, Costs: map[sb.ChannelKind]int{"fax": 3}})
		wantKind(t, "R-X5 an unknown kind", err, sb.Invalid)
		_, err = e.svc.SetWeights(e.ctx, e.admin, app.WeightsInput{Enabled: true, Capacities: map[string]int{"nobody": 3}})
		wantKind(t, "R-X5 a capacity for nobody", err, sb.Invalid)
		def := must(e.svc.Weights(e.ctx, e.admin))(t)
		if def.Enabled || def.Costs[sb.KindCalling] != 100 || def.Costs[sb.KindChat] != 34 || def.Costs[sb.KindEmail] != 10 {
			t.Fatalf("R-X5 defaults: %+v", def)
		}
		w := must(e.svc.SetWeights(e.ctx, e.admin, app.WeightsInput{Enabled: true, Capacities: map[string]int{ann.UserID: 100, bob.UserID: 100}}))(t)
		if !w.Enabled || w.Costs[sb.KindWhatsApp] != 34 || w.Capacities[bob.UserID] != 100 {
			t.Fatalf("R-X5 stored setting: %+v", w)
		}

		n := 0
		chatFrom := func() *app.InboundResult {
			n++
			e.clock.Add(time.Second)
			return e.inbound(chat.ID, fmt.Sprintf("c%d@x.test", n), "hi")
		}
		mail := e.inbound(email.ID, "m@x.test", "an email") // ann: 10 units
		if mail.Conversation.AssigneeID != ann.UserID {
			t.Fatalf("email to %q", mail.Conversation.AssigneeID)
		}
		// Least busy in units: bob 0 < ann 10, then ann 10 < bob 34, …
		wantOrder := []string{bob.UserID, ann.UserID, bob.UserID, ann.UserID} // ann 78, bob 68
		var chats []*app.InboundResult
		for i, want := range wantOrder {
			r := chatFrom()
			chats = append(chats, r)
			if r.Conversation.AssigneeID != want {
				t.Fatalf("R-X5 chat %d went to %q, want %q (%s)", i, r.Conversation.AssigneeID, want, r.Decision.Reason)
			}
		}
		rec := must(e.svc.RoutingRecord(e.ctx, e.admin, chats[1].Conversation.ID))(t)
		loads := map[string][2]int{}
		for _, c := range rec[0].Candidates {
			loads[c.UserID] = [2]int{c.Load, c.Capacity}
		}
		if loads[ann.UserID] != [2]int{10, 100} || loads[bob.UserID] != [2]int{34, 100} {
			t.Fatalf("R-A12 with R-X5: record loads %v, want ann 10/100 and bob 34/100 units", loads)
		}
		// 78+34 and 68+34 exceed 100: the fifth chat waits.
		fifth := chatFrom()
		if fifth.Conversation.AssigneeID != "" || !fifth.Conversation.Waiting {
			t.Fatalf("R-X5 with R-A10: want waiting, got %+v (%s)", fifth.Conversation, fifth.Decision.Reason)
		}
		// Closing ann's email frees 10 units: 68+34 still does not fit.
		must(e.svc.SetOpen(e.ctx, e.admin, mail.Conversation.ID, false))(t)
		if c := must(e.svc.GetConversation(e.ctx, e.admin, fifth.Conversation.ID))(t); c.AssigneeID != "" {
			t.Fatalf("R-X5: 10 freed units must not drain a 34-unit chat to ann at 68, got %q", c.AssigneeID)
		}
		// Closing one of bob's chats frees 34: the waiting chat drains to him.
		must(e.svc.SetOpen(e.ctx, e.admin, chats[0].Conversation.ID, false))(t)
		c := must(e.svc.GetConversation(e.ctx, e.admin, fifth.Conversation.ID))(t)
		if c.AssigneeID != bob.UserID {
			t.Fatalf("R-X2 with R-X5: want the waiting chat drained to bob, got %q", c.AssigneeID)
		}
		ds := must(e.svc.RoutingRecord(e.ctx, e.admin, c.ID))(t)
		if last := ds[len(ds)-1]; last.Trigger != sb.TriggerBacklogDrain || !strings.Contains(last.Reason, "68 of 100 units") {
			t.Fatalf("R-A12: drain record %+v, want units in the reason", last)
		}
		// The next batch sees the drain and the closes: ann 68, bob 68.
		next := chatFrom()
		if next.Conversation.AssigneeID != "" {
			t.Fatalf("R-X5: at 68 units nobody fits a chat in 100, got %q", next.Conversation.AssigneeID)
		}
		// Reopening the email takes ann to 78; switching weights off goes
		// back to counting chats with no limit: the waiting chat is drained
		// to ann, who has 2 open chats like bob but was assigned one longer ago.
		must(e.svc.SetOpen(e.ctx, e.admin, mail.Conversation.ID, true))(t)
		must(e.svc.SetWeights(e.ctx, e.admin, app.WeightsInput{Enabled: false}))(t)
		if c := must(e.svc.GetConversation(e.ctx, e.admin, next.Conversation.ID))(t); c.AssigneeID != ann.UserID {
			t.Fatalf("R-X5 off: want the waiting chat drained to ann, got %q", c.AssigneeID)
		}
	})
}

func wantKind(t *testing.T, what string, err error, k sb.Kind) {
	t.Helper()
	if !sb.IsKind(err, k) {
		t.Fatalf("%s: err %v, want kind %v", what, err, k)
	}
}
