package storetest

import (
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// testRouting covers the store side of weighted capacity (R-X5) and the
// dry run (R-X6), one store for all, each in accounts of its own.
func testRouting(t *testing.T, f *fixture) {
	for _, tc := range []namedTest{
		{"Weights", testRoutingWeights},
		{"OpenLoads", testOpenLoads},
		{"RecordedConversations", testRecordedConversations},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, &fixture{t: t, s: f.s, ctx: f.ctx}) })
	}
}

// testRoutingWeights: R-X5's setting is NotFound until set, then reads
// back as written, is replaced by a second write, and stays in its account.
func testRoutingWeights(t *testing.T, f *fixture) {
	wa, wb := f.world("wa"), f.world("wb")
	a := wa.account.ID
	f.view(func(tx sb.Tx) error {
		_, err := tx.RoutingWeights(f.ctx, a)
		wantKind(t, "RoutingWeights before any", err, sb.NotFound)
		return nil
	})
	w := &sb.RoutingWeights{Enabled: true, Costs: map[sb.ChannelKind]int{sb.KindChat: 30, sb.KindEmail: 5},
		Capacities: map[string]int{wa.user.ID: 90}, UpdatedAt: at(1)}
	f.update(a, func(tx sb.Tx) error { return tx.SetRoutingWeights(f.ctx, a, w) })
	f.view(func(tx sb.Tx) error {
		got, err := tx.RoutingWeights(f.ctx, a)
		must(t, "RoutingWeights", err)
		want := *w
		want.UpdatedAt = us(at(1))
		diff(t, "weights", &want, got)
		_, err = tx.RoutingWeights(f.ctx, wb.account.ID)
		wantKind(t, "RoutingWeights of another account", err, sb.NotFound)
		return nil
	})
	off := &sb.RoutingWeights{UpdatedAt: at(2)}
	f.update(a, func(tx sb.Tx) error { return tx.SetRoutingWeights(f.ctx, a, off) })
	f.view(func(tx sb.Tx) error {
		got, err := tx.RoutingWeights(f.ctx, a)
		must(t, "RoutingWeights", err)
		diff(t, "replaced weights", &sb.RoutingWeights{Costs: map[sb.ChannelKind]int{}, Capacities: map[string]int{}, UpdatedAt: us(at(2))}, got)
		return nil
	})
}

// testOpenLoads: open assigned conversations per user and kind; closed
// and unassigned ones and other accounts' do not count.
func testOpenLoads(t *testing.T, f *fixture) {
	wa, wb := f.world("la"), f.world("lb")
	a := wa.account.ID
	bob := f.user(a, "bob@example.com")
	email := f.channel(a, wa.inbox.ID, sb.KindEmail)
	assignTo := func(id string) func(*sb.Conversation) { return func(c *sb.Conversation) { c.AssigneeID = id } }
	closed := func(c *sb.Conversation) { c.Status, c.ClosedAt = sb.StatusClosed, at(1) }
	f.conversation(wa.channel, wa.contact, assignTo(bob.ID))
	f.conversation(email, wa.contact, assignTo(bob.ID))
	f.conversation(email, wa.contact, assignTo(bob.ID))
	f.conversation(email, wa.contact, assignTo(bob.ID), closed)
	f.conversation(email, wa.contact)
	f.conversation(wb.channel, wb.contact, assignTo(wb.user.ID))
	f.view(func(tx sb.Tx) error {
		got, err := tx.OpenLoads(f.ctx, a)
		must(t, "OpenLoads", err)
		want := []sb.KindLoad{{UserID: wa.user.ID, Kind: sb.KindChat, Open: 1}, {UserID: bob.ID, Kind: sb.KindChat, Open: 1}, {UserID: bob.ID, Kind: sb.KindEmail, Open: 2}}
		if wa.user.ID > bob.ID {
			want = append(want[1:], want[0])
		}
		diff(t, "open loads", want, got)
		none, err := tx.OpenLoads(f.ctx, "no-such-account")
		must(t, "OpenLoads of nobody", err)
		diff(t, "open loads of no account", []sb.KindLoad{}, none)
		return nil
	})
}

// testRecordedConversations: a channel's conversations in a time range,
// oldest first, with the contact's owner and creation and the first
// assignment (R-X6).
func testRecordedConversations(t *testing.T, f *fixture) {
	wa := f.world("ra")
	a := wa.account.ID
	f.update(a, func(tx sb.Tx) error {
		wa.contact.OwnerID = wa.user.ID
		return tx.UpdateContact(f.ctx, wa.contact)
	})
	mk := func(i int, mods ...func(*sb.Conversation)) *sb.Conversation {
		return f.conversation(wa.channel, wa.contact, append([]func(*sb.Conversation){func(c *sb.Conversation) { c.CreatedAt = at(i) }}, mods...)...)
	}
	c1 := mk(10, func(c *sb.Conversation) { c.AssigneeID, c.Status, c.ClosedAt = wa.user.ID, sb.StatusClosed, at(20) })
	c2 := mk(11)
	mk(30) // after the range
	f.update(a, func(tx sb.Tx) error {
		// c1 waited (not an assignment), then was assigned at 14 and, recorded out of order, at 12.
		for _, d := range []struct {
			outcome string
			when    int
		}{{sb.OutcomeWaiting, 10}, {sb.OutcomeAssigned, 14}, {sb.OutcomeAssigned, 12}} {
			if err := tx.CreateDecision(f.ctx, &sb.Decision{AccountID: a, ConversationID: c1.ID, Trigger: sb.TriggerCreated,
				Outcome: d.outcome, AssigneeID: wa.user.ID, CreatedAt: at(d.when)}); err != nil {
				return err
			}
		}
		return tx.CreateDecision(f.ctx, &sb.Decision{AccountID: a, ConversationID: c2.ID, Trigger: sb.TriggerCreated, Outcome: sb.OutcomeWaiting, CreatedAt: at(11)})
	})
	f.view(func(tx sb.Tx) error {
		got, err := tx.RecordedConversations(f.ctx, a, wa.channel.ID, at(5), at(30))
		must(t, "RecordedConversations", err)
		want := []sb.RecordedConversation{
			{ID: c1.ID, ContactID: wa.contact.ID, ContactOwnerID: wa.user.ID, ContactCreatedAt: us(base), AssigneeID: wa.user.ID, CreatedAt: us(at(10)), AssignedAt: us(at(12)), ClosedAt: us(at(20))},
			{ID: c2.ID, ContactID: wa.contact.ID, ContactOwnerID: wa.user.ID, ContactCreatedAt: us(base), CreatedAt: us(at(11))},
		}
		diff(t, "recorded", want, got)
		other, err := tx.RecordedConversations(f.ctx, "other", wa.channel.ID, time.Time{}, at(100))
		must(t, "RecordedConversations of another account", err)
		diff(t, "another account's", []sb.RecordedConversation{}, other)
		return nil
	})
}
