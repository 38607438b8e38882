package storetest

import (
	"testing"

	sb "github.com/switchboard-dev/switchboard"
)

// ticketTests are the suite's tests of tickets, pipelines and webhooks
// (R-T1 … R-T4, R-X8).
var ticketTests = []namedTest{
	{"Tickets/Pipelines", testPipelines},
	{"Tickets/RoundTripAndFilter", testTicketsRoundTrip},
	{"Tickets/CountsAndFollow", testTicketCountsAndFollow},
	{"Tickets/LimitsAndFlags", testTicketLimitsAndFlags},
	{"Webhooks/Subscriptions", testWebhookSubscriptions},
	{"Webhooks/Deliveries", testWebhookDeliveries},
}

func (f *fixture) pipeline(accountID, name string, stages ...string) *sb.Pipeline {
	f.t.Helper()
	p := &sb.Pipeline{AccountID: accountID, Name: name, CreatedAt: base, UpdatedAt: base}
	for _, s := range stages {
		p.Stages = append(p.Stages, sb.Stage{ID: "st-" + s, Name: s})
	}
	f.update(accountID, func(tx sb.Tx) error { return tx.CreatePipeline(f.ctx, p) })
	return p
}

// testPipelines: stages come back in order; names are unique per account;
// another account's pipeline does not exist.
func testPipelines(t *testing.T, f *fixture) {
	a, b := f.account("a"), f.account("b")
	p := f.pipeline(a.ID, "Support", "New", "Waiting", "Closed")
	f.pipeline(b.ID, "Support", "Only") // the same name in another account is fine
	second := f.pipeline(a.ID, "Sales", "Lead")
	err := f.s.Update(f.ctx, a.ID, func(tx sb.Tx) error {
		return tx.CreatePipeline(f.ctx, &sb.Pipeline{AccountID: a.ID, Name: "Support", Stages: []sb.Stage{{ID: "x", Name: "x"}}})
	})
	wantKind(t, "CreatePipeline with a taken name", err, sb.Conflict)

	p.Stages = []sb.Stage{{ID: "st-Closed", Name: "Done"}, {ID: "st-New", Name: "New"}}
	p.Name, p.UpdatedAt = "Helpdesk", at(5)
	f.update(a.ID, func(tx sb.Tx) error { return tx.UpdatePipeline(f.ctx, p) })
	want := *p
	want.CreatedAt, want.UpdatedAt = us(base), us(at(5))
	f.view(func(tx sb.Tx) error {
		got, err := tx.Pipeline(f.ctx, a.ID, p.ID)
		must(t, "Pipeline", err)
		diff(t, "Pipeline after update", &want, got)
		all, err := tx.Pipelines(f.ctx, a.ID)
		must(t, "Pipelines", err)
		diff(t, "Pipelines (oldest first)", []string{p.ID, second.ID}, ids(all, func(p *sb.Pipeline) string { return p.ID }))
		_, err = tx.Pipeline(f.ctx, b.ID, p.ID)
		wantKind(t, "Pipeline of another account", err, sb.NotFound)
		return nil
	})
	err = f.s.Update(f.ctx, a.ID, func(tx sb.Tx) error {
		return tx.UpdatePipeline(f.ctx, &sb.Pipeline{AccountID: b.ID, ID: p.ID, Name: "Stolen"})
	})
	wantKind(t, "UpdatePipeline across accounts", err, sb.NotFound)
	second.Name = "Helpdesk"
	err = f.s.Update(f.ctx, a.ID, func(tx sb.Tx) error { return tx.UpdatePipeline(f.ctx, second) })
	wantKind(t, "UpdatePipeline to a taken name", err, sb.Conflict)
}

// testTicketsRoundTrip: bulk insert, every field back, update, the
// filters, R-I4's inbox limit (tickets without an inbox stay visible) and
// cursor paging newest first.
func testTicketsRoundTrip(t *testing.T, f *fixture) {
	w := f.world("a")
	other := f.world("b")
	a := w.account.ID
	p := f.pipeline(a, "Support", "New", "Closed")
	in2 := f.inbox(a, "second")
	var ts []*sb.Ticket
	for i := range 5 {
		k := &sb.Ticket{AccountID: a, PipelineID: p.ID, StageID: "st-New", Name: "T" + itoa(i), Description: "d" + itoa(i),
			ContactID: w.contact.ID, CreatedAt: at(i), UpdatedAt: at(i)}
		switch i {
		case 0:
			k.ConversationID, k.InboxID, k.OwnerID, k.OwnerSetManually = w.conv.ID, w.inbox.ID, w.user.ID, true
		case 1:
			k.InboxID = in2.ID
		case 2:
			k.StageID = "st-Closed"
		}
		ts = append(ts, k)
	}
	f.update(a, func(tx sb.Tx) error { return tx.CreateTickets(f.ctx, ts) })
	for _, k := range ts {
		if k.ID == "" {
			t.Fatal("CreateTickets left an id empty")
		}
	}
	err := f.s.Update(f.ctx, a, func(tx sb.Tx) error {
		return tx.CreateTickets(f.ctx, []*sb.Ticket{{AccountID: a, PipelineID: "nope", StageID: "x", Name: "bad", CreatedAt: base}})
	})
	wantKind(t, "CreateTickets with an unknown pipeline", err, sb.NotFound)

	want := *ts[0]
	want.CreatedAt, want.UpdatedAt = us(at(0)), us(at(0))
	f.view(func(tx sb.Tx) error {
		got, err := tx.Ticket(f.ctx, a, ts[0].ID)
		must(t, "Ticket", err)
		diff(t, "Ticket", &want, got)
		_, err = tx.Ticket(f.ctx, other.account.ID, ts[0].ID)
		wantKind(t, "Ticket of another account", err, sb.NotFound)
		return nil
	})

	ts[3].StageID, ts[3].OwnerID, ts[3].Name, ts[3].UpdatedAt = "st-Closed", w.user.ID, "renamed", at(9)
	f.update(a, func(tx sb.Tx) error { return tx.UpdateTicket(f.ctx, ts[3]) })
	err = f.s.Update(f.ctx, a, func(tx sb.Tx) error {
		k := *ts[3]
		k.AccountID = other.account.ID
		return tx.UpdateTicket(f.ctx, &k)
	})
	wantKind(t, "UpdateTicket across accounts", err, sb.NotFound)

	id := func(k *sb.Ticket) string { return k.ID }
	cases := []struct {
		name string
		f    sb.TicketFilter
		want []*sb.Ticket
	}{
		{"all, newest first", sb.TicketFilter{}, []*sb.Ticket{ts[4], ts[3], ts[2], ts[1], ts[0]}},
		{"by stage", sb.TicketFilter{StageID: "st-Closed"}, []*sb.Ticket{ts[3], ts[2]}},
		{"by owner", sb.TicketFilter{OwnerID: w.user.ID}, []*sb.Ticket{ts[3], ts[0]}},
		{"by conversation", sb.TicketFilter{ConversationID: w.conv.ID}, []*sb.Ticket{ts[0]}},
		{"by contact and pipeline", sb.TicketFilter{ContactID: w.contact.ID, PipelineID: p.ID}, []*sb.Ticket{ts[4], ts[3], ts[2], ts[1], ts[0]}},
		{"R-I4 inbox limit keeps tickets without an inbox", sb.TicketFilter{InboxIDs: []string{w.inbox.ID}}, []*sb.Ticket{ts[4], ts[3], ts[2], ts[0]}},
		{"R-I4 no inbox visible", sb.TicketFilter{InboxIDs: []string{}}, []*sb.Ticket{ts[4], ts[3], ts[2]}},
		{"cursor", sb.TicketFilter{AfterCreated: at(3), AfterID: ts[3].ID, Limit: 2}, []*sb.Ticket{ts[2], ts[1]}},
	}
	f.view(func(tx sb.Tx) error {
		for _, c := range cases {
			c.f.AccountID = a
			got, err := tx.Tickets(f.ctx, c.f)
			must(t, c.name, err)
			diff(t, "Tickets "+c.name, ids(c.want, id), ids(got, id))
		}
		got, err := tx.Tickets(f.ctx, sb.TicketFilter{AccountID: other.account.ID})
		must(t, "Tickets of another account", err)
		if len(got) != 0 {
			t.Errorf("another account lists %d tickets", len(got))
		}
		return nil
	})
}

// testTicketCountsAndFollow: R-T3's per-contact count, per-stage counts,
// and R-T2's follow: only tickets without owner and not set manually.
func testTicketCountsAndFollow(t *testing.T, f *fixture) {
	w := f.world("a")
	a := w.account.ID
	p := f.pipeline(a, "Support", "New", "Closed")
	c2 := f.contact(a, "two@example.com")
	ts := []*sb.Ticket{
		{AccountID: a, PipelineID: p.ID, StageID: "st-New", Name: "no owner", ContactID: w.contact.ID, CreatedAt: base},
		{AccountID: a, PipelineID: p.ID, StageID: "st-New", Name: "manual none", OwnerSetManually: true, ContactID: w.contact.ID, CreatedAt: base},
		{AccountID: a, PipelineID: p.ID, StageID: "st-Closed", Name: "owned", OwnerID: "someone", ContactID: c2.ID, CreatedAt: base},
		{AccountID: a, PipelineID: p.ID, StageID: "st-Closed", Name: "left alone", ContactID: c2.ID, CreatedAt: base},
	}
	f.update(a, func(tx sb.Tx) error { return tx.CreateTickets(f.ctx, ts) })
	var changed []*sb.Ticket
	f.update(a, func(tx sb.Tx) error {
		byContact, err := tx.ContactTicketCounts(f.ctx, a, []string{w.contact.ID, c2.ID, "nobody"})
		must(t, "ContactTicketCounts", err)
		diff(t, "ContactTicketCounts", map[string]int{w.contact.ID: 2, c2.ID: 2}, byContact)
		byStage, err := tx.StageTicketCounts(f.ctx, a, p.ID)
		must(t, "StageTicketCounts", err)
		diff(t, "StageTicketCounts", map[string]int{"st-New": 2, "st-Closed": 2}, byStage)
		changed, err = tx.FollowAssignees(f.ctx, a, []sb.TicketOwner{
			{TicketID: ts[0].ID, OwnerID: w.user.ID}, {TicketID: ts[1].ID, OwnerID: w.user.ID},
			{TicketID: ts[2].ID, OwnerID: w.user.ID}, {TicketID: "missing", OwnerID: w.user.ID},
		}, at(3))
		return err
	})
	if len(changed) != 1 || changed[0].ID != ts[0].ID || changed[0].OwnerID != w.user.ID || !changed[0].UpdatedAt.Equal(us(at(3))) || changed[0].Name != "no owner" {
		t.Errorf("FollowAssignees returned %+v, want ticket %q as it is now", changed, ts[0].ID)
	}
	f.view(func(tx sb.Tx) error {
		for i, want := range []string{w.user.ID, "", "someone", ""} {
			got, err := tx.Ticket(f.ctx, a, ts[i].ID)
			must(t, "Ticket", err)
			if got.OwnerID != want {
				t.Errorf("R-T2 ticket %q owner = %q, want %q", got.Name, got.OwnerID, want)
			}
		}
		got, _ := tx.Ticket(f.ctx, a, ts[0].ID)
		if !got.UpdatedAt.Equal(us(at(3))) {
			t.Errorf("followed ticket updated_at = %v, want %v", got.UpdatedAt, us(at(3)))
		}
		return nil
	})
	other := f.account("b")
	f.update(other.ID, func(tx sb.Tx) error {
		ids, err := tx.FollowAssignees(f.ctx, other.ID, []sb.TicketOwner{{TicketID: ts[3].ID, OwnerID: "x"}}, at(4))
		if len(ids) != 0 {
			t.Errorf("FollowAssignees changed another account's ticket")
		}
		return err
	})
	f.view(func(tx sb.Tx) error {
		got, err := tx.Ticket(f.ctx, a, ts[3].ID)
		must(t, "Ticket", err)
		if got.OwnerID != "" {
			t.Errorf("another account's FollowAssignees set owner %q", got.OwnerID)
		}
		return nil
	})
}

// testTicketLimitsAndFlags: settings are NotFound until put, then
// replaced; a flag given twice keeps the first.
func testTicketLimitsAndFlags(t *testing.T, f *fixture) {
	w := f.world("a")
	a := w.account.ID
	f.view(func(tx sb.Tx) error {
		_, err := tx.TicketLimits(f.ctx, a)
		wantKind(t, "TicketLimits before any put", err, sb.NotFound)
		return nil
	})
	f.update(a, func(tx sb.Tx) error {
		must(t, "Put", tx.PutTicketLimits(f.ctx, &sb.TicketLimits{AccountID: a, ContactLimit: 3, UpdatedAt: base}))
		return tx.PutTicketLimits(f.ctx, &sb.TicketLimits{AccountID: a, ContactLimit: 7, UpdatedAt: at(1)})
	})
	first := &sb.ConversationFlag{AccountID: a, ConversationID: w.conv.ID, Flag: sb.FlagTicketLimitReached, Detail: "first", CreatedAt: at(1)}
	f.update(a, func(tx sb.Tx) error {
		return tx.AddConversationFlags(f.ctx, []*sb.ConversationFlag{first,
			{AccountID: a, ConversationID: w.conv.ID, Flag: "other", Detail: "x", CreatedAt: at(2)}})
	})
	f.update(a, func(tx sb.Tx) error {
		return tx.AddConversationFlags(f.ctx, []*sb.ConversationFlag{{AccountID: a, ConversationID: w.conv.ID, Flag: sb.FlagTicketLimitReached, Detail: "second", CreatedAt: at(3)}})
	})
	f.view(func(tx sb.Tx) error {
		l, err := tx.TicketLimits(f.ctx, a)
		must(t, "TicketLimits", err)
		diff(t, "TicketLimits", &sb.TicketLimits{AccountID: a, ContactLimit: 7, UpdatedAt: us(at(1))}, l)
		fs, err := tx.ConversationFlags(f.ctx, a, w.conv.ID)
		must(t, "ConversationFlags", err)
		want := *first
		want.CreatedAt = us(at(1))
		if len(fs) != 2 {
			t.Fatalf("%d flags, want 2", len(fs))
		}
		diff(t, "first flag", &want, fs[0])
		none, err := tx.ConversationFlags(f.ctx, "other-account", w.conv.ID)
		must(t, "ConversationFlags of another account", err)
		if len(none) != 0 {
			t.Errorf("another account sees %d flags", len(none))
		}
		return nil
	})
}

// testWebhookSubscriptions: round trip with the secret, only active ones
// in WebhookAccounts, the cursor only moves forward, delete takes the
// deliveries along, LastEventID and Event.
func testWebhookSubscriptions(t *testing.T, f *fixture) {
	w := f.world("a")
	other := f.world("b")
	a := w.account.ID
	hook := &sb.Webhook{AccountID: a, URL: "https://example.com/h", Events: []string{sb.EventConversationCreated},
		Secret: "whsec_x", Active: true, Cursor: 4, CreatedAt: base, UpdatedAt: base}
	off := &sb.Webhook{AccountID: other.account.ID, URL: "http://b.example/h", Events: []string{}, Secret: "s", CreatedAt: base, UpdatedAt: base}
	f.update(a, func(tx sb.Tx) error { return tx.CreateWebhook(f.ctx, hook) })
	f.update(other.account.ID, func(tx sb.Tx) error { return tx.CreateWebhook(f.ctx, off) })
	want := *hook
	want.CreatedAt, want.UpdatedAt = us(base), us(base)
	f.update(a, func(tx sb.Tx) error {
		got, err := tx.Webhook(f.ctx, a, hook.ID)
		must(t, "Webhook", err)
		diff(t, "Webhook", &want, got)
		if got.Secret != "whsec_x" {
			t.Errorf("secret %q did not round-trip", got.Secret)
		}
		_, err = tx.Webhook(f.ctx, other.account.ID, hook.ID)
		wantKind(t, "Webhook of another account", err, sb.NotFound)
		accts, err := tx.WebhookAccounts(f.ctx)
		must(t, "WebhookAccounts", err)
		diff(t, "WebhookAccounts (active only)", []string{a}, accts)
		must(t, "cursor forward", tx.SetWebhookCursor(f.ctx, a, hook.ID, 9))
		must(t, "cursor backward", tx.SetWebhookCursor(f.ctx, a, hook.ID, 2))
		wantKind(t, "SetWebhookCursor across accounts", tx.SetWebhookCursor(f.ctx, other.account.ID, hook.ID, 20), sb.NotFound)
		got, _ = tx.Webhook(f.ctx, a, hook.ID)
		if got.Cursor != 9 {
			t.Errorf("cursor = %d, want 9 (forward only)", got.Cursor)
		}
		last, err := tx.LastEventID(f.ctx, a)
		must(t, "LastEventID", err)
		if last != w.event.ID {
			t.Errorf("LastEventID = %d, want %d", last, w.event.ID)
		}
		none, err := tx.LastEventID(f.ctx, "no-such-account")
		must(t, "LastEventID of an empty log", err)
		if none != 0 {
			t.Errorf("LastEventID of an empty log = %d", none)
		}
		e, err := tx.Event(f.ctx, a, w.event.ID)
		must(t, "Event", err)
		if e.Type != sb.EventConversationCreated || e.ConversationID != w.conv.ID {
			t.Errorf("Event = %+v", e)
		}
		_, err = tx.Event(f.ctx, other.account.ID, w.event.ID)
		wantKind(t, "Event of another account", err, sb.NotFound)
		return nil
	})
	hook.Active, hook.URL, hook.Events, hook.UpdatedAt = false, "https://example.com/2", []string{"a", "b"}, at(2)
	hook.Cursor = 9
	f.update(a, func(tx sb.Tx) error {
		must(t, "UpdateWebhook", tx.UpdateWebhook(f.ctx, hook))
		return tx.CreateWebhookDelivery(f.ctx, &sb.WebhookDelivery{AccountID: a, WebhookID: hook.ID, DeliveryID: "d", EventID: 1, Attempt: 1, CreatedAt: base})
	})
	f.update(a, func(tx sb.Tx) error {
		hs, err := tx.Webhooks(f.ctx, a)
		must(t, "Webhooks", err)
		if len(hs) != 1 || hs[0].Active || hs[0].URL != hook.URL || len(hs[0].Events) != 2 {
			t.Errorf("Webhooks after update = %+v", hs)
		}
		wantKind(t, "DeleteWebhook across accounts", tx.DeleteWebhook(f.ctx, other.account.ID, hook.ID), sb.NotFound)
		must(t, "DeleteWebhook", tx.DeleteWebhook(f.ctx, a, hook.ID))
		ds, err := tx.WebhookDeliveries(f.ctx, a, hook.ID, zeroTime, "", 0)
		must(t, "WebhookDeliveries", err)
		if len(ds) != 0 {
			t.Errorf("%d deliveries survive their webhook", len(ds))
		}
		_, err = tx.Webhook(f.ctx, a, hook.ID)
		wantKind(t, "deleted Webhook", err, sb.NotFound)
		return nil
	})
}

// testWebhookDeliveries: attempts come back whole, newest first, paged.
func testWebhookDeliveries(t *testing.T, f *fixture) {
	w := f.world("a")
	a := w.account.ID
	hook := &sb.Webhook{AccountID: a, URL: "https://example.com/h", Events: []string{}, Secret: "s", Active: true, CreatedAt: base, UpdatedAt: base}
	f.update(a, func(tx sb.Tx) error { return tx.CreateWebhook(f.ctx, hook) })
	var ds []*sb.WebhookDelivery
	f.update(a, func(tx sb.Tx) error {
		for i := range 3 {
			d := &sb.WebhookDelivery{AccountID: a, WebhookID: hook.ID, DeliveryID: "job-1", EventID: 7, EventType: sb.EventMessageCreated,
				Attempt: i + 1, StatusCode: 500, ResponseBody: "oops", DurationMS: 12, Error: "HTTP 500", CreatedAt: at(i)}
			if i == 2 {
				d.StatusCode, d.Error = 200, ""
			}
			must(t, "CreateWebhookDelivery", tx.CreateWebhookDelivery(f.ctx, d))
			ds = append(ds, d)
		}
		return nil
	})
	id := func(d *sb.WebhookDelivery) string { return d.ID }
	f.view(func(tx sb.Tx) error {
		all, err := tx.WebhookDeliveries(f.ctx, a, hook.ID, zeroTime, "", 0)
		must(t, "WebhookDeliveries", err)
		diff(t, "deliveries newest first", []string{ds[2].ID, ds[1].ID, ds[0].ID}, ids(all, id))
		want := *ds[0]
		want.CreatedAt = us(at(0))
		diff(t, "delivery", &want, all[2])
		page, err := tx.WebhookDeliveries(f.ctx, a, hook.ID, all[1].CreatedAt, all[1].ID, 5)
		must(t, "WebhookDeliveries after a cursor", err)
		diff(t, "second page", []string{ds[0].ID}, ids(page, id))
		none, err := tx.WebhookDeliveries(f.ctx, "other", hook.ID, zeroTime, "", 0)
		must(t, "WebhookDeliveries of another account", err)
		if len(none) != 0 {
			t.Errorf("another account sees %d deliveries", len(none))
		}
		return nil
	})
}
