package storetest

import (
	"cmp"
	"slices"
	"testing"

	sb "github.com/switchboard-dev/switchboard"
)

// testConversationFilter: each field of ConversationFilter, alone and
// combined, newest activity first; another account's rows never show.
func testConversationFilter(t *testing.T, f *fixture) {
	acct := f.account("a")
	a := acct.ID
	in1, in2 := f.inbox(a, "one"), f.inbox(a, "two")
	ch1, ch2 := f.channel(a, in1.ID, sb.KindEmail), f.channel(a, in2.ID, sb.KindChat)
	ct := f.contact(a, "c@example.com")
	u1, u2, u3 := f.user(a, "u1@example.com"), f.user(a, "u2@example.com"), f.user(a, "u3@example.com")
	team := f.team(a, "T", u1.ID, u2.ID)

	conv := func(i int, ch *sb.Channel, status, assignee, teamID string) *sb.Conversation {
		return f.conversation(ch, ct, func(c *sb.Conversation) {
			c.Status, c.AssigneeID, c.TeamID, c.LastActivityAt = status, assignee, teamID, at(i)
		})
	}
	c1 := conv(1, ch1, sb.StatusOpen, u1.ID, "")
	c2 := conv(2, ch1, sb.StatusOpen, "", "")
	c3 := conv(3, ch2, sb.StatusOpen, "", team.ID)
	c4 := conv(4, ch2, sb.StatusClosed, u2.ID, "")
	c5 := conv(5, ch2, sb.StatusOpen, u3.ID, "")
	c6 := conv(6, ch1, sb.StatusClosed, "", "")
	other := f.world("other") // its conversation is the most recent of all
	f.update(other.account.ID, func(tx sb.Tx) error {
		other.conv.LastActivityAt = at(100)
		return tx.UpdateConversation(f.ctx, other.conv)
	})

	flt := func(mod func(*sb.ConversationFilter)) sb.ConversationFilter {
		fl := sb.ConversationFilter{AccountID: a}
		mod(&fl)
		return fl
	}
	cases := []struct {
		name string
		f    sb.ConversationFilter
		want []*sb.Conversation
	}{
		{"no filter", flt(func(*sb.ConversationFilter) {}), []*sb.Conversation{c6, c5, c4, c3, c2, c1}},
		{"status open", flt(func(f *sb.ConversationFilter) { f.Status = sb.StatusOpen }), []*sb.Conversation{c5, c3, c2, c1}},
		{"status closed", flt(func(f *sb.ConversationFilter) { f.Status = sb.StatusClosed }), []*sb.Conversation{c6, c4}},
		{"unassigned", flt(func(f *sb.ConversationFilter) { f.Unassigned = true }), []*sb.Conversation{c6, c2}},
		{"unassigned and open", flt(func(f *sb.ConversationFilter) { f.Unassigned, f.Status = true, sb.StatusOpen }),
			[]*sb.Conversation{c2}},
		{"assignee", flt(func(f *sb.ConversationFilter) { f.AssigneeID = u1.ID }), []*sb.Conversation{c1}},
		{"inbox", flt(func(f *sb.ConversationFilter) { f.InboxID = in2.ID }), []*sb.Conversation{c5, c4, c3}},
		{"inboxes, one", flt(func(f *sb.ConversationFilter) { f.InboxIDs = []string{in1.ID} }), []*sb.Conversation{c6, c2, c1}},
		{"inboxes, both", flt(func(f *sb.ConversationFilter) { f.InboxIDs = []string{in1.ID, in2.ID} }),
			[]*sb.Conversation{c6, c5, c4, c3, c2, c1}},
		{"inboxes, empty", flt(func(f *sb.ConversationFilter) { f.InboxIDs = []string{} }), nil},
		{"inboxes, another account's", flt(func(f *sb.ConversationFilter) { f.InboxIDs = []string{other.inbox.ID} }), nil},
		{"team with members", flt(func(f *sb.ConversationFilter) { f.TeamID, f.TeamMemberIDs = team.ID, []string{u1.ID, u2.ID} }),
			[]*sb.Conversation{c4, c3, c1}},
		{"team alone", flt(func(f *sb.ConversationFilter) { f.TeamID = team.ID }), []*sb.Conversation{c3}},
		{"team, open, inbox two", flt(func(f *sb.ConversationFilter) {
			f.TeamID, f.TeamMemberIDs, f.Status, f.InboxID = team.ID, []string{u1.ID, u2.ID}, sb.StatusOpen, in2.ID
		}), []*sb.Conversation{c3}},
		{"limit", flt(func(f *sb.ConversationFilter) { f.Limit = 2 }), []*sb.Conversation{c6, c5}},
		{"cursor", flt(func(f *sb.ConversationFilter) { f.AfterActivity, f.AfterID = c4.LastActivityAt, c4.ID }),
			[]*sb.Conversation{c3, c2, c1}},
		{"cursor and status", flt(func(f *sb.ConversationFilter) {
			f.AfterActivity, f.AfterID, f.Status = c5.LastActivityAt, c5.ID, sb.StatusClosed
		}), []*sb.Conversation{c4}},
	}
	f.view(func(tx sb.Tx) error {
		for _, c := range cases {
			got, err := tx.Conversations(f.ctx, c.f)
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			if got == nil {
				t.Errorf("%s: got a nil slice, want an empty one", c.name)
			}
			diff(t, c.name, ids(c.want, convID), ids(got, convID))
		}
		return nil
	})
}

// testConversationPaging: paging with the cursor through 120
// conversations, many sharing a last-activity time, returns each exactly
// once, newest activity first (ties by id, descending); the default limit
// is 50 and the largest page 200.
func testConversationPaging(t *testing.T, f *fixture) {
	w := f.world("a")
	a := w.account.ID
	var all []*sb.Conversation
	add := func(n int) {
		f.update(a, func(tx sb.Tx) error {
			for i := range n {
				c := &sb.Conversation{AccountID: a, InboxID: w.inbox.ID, ChannelID: w.channel.ID,
					ChannelKind: w.channel.Kind, ContactID: w.contact.ID, Status: sb.StatusOpen,
					CreatedAt: base, LastActivityAt: us(at((len(all) + i) / 4))} // four per minute
				if err := tx.CreateConversation(f.ctx, c); err != nil {
					return err
				}
				all = append(all, c)
			}
			return nil
		})
	}
	add(119)
	w.conv.LastActivityAt = us(w.conv.LastActivityAt)
	all = append(all, w.conv) // the world's own, at base: 120
	slices.SortFunc(all, func(x, y *sb.Conversation) int {
		return cmp.Or(y.LastActivityAt.Compare(x.LastActivityAt), cmp.Compare(y.ID, x.ID))
	})

	var got []*sb.Conversation
	f.view(func(tx sb.Tx) error {
		fl := sb.ConversationFilter{AccountID: a, Limit: 7}
		for page := 0; ; page++ {
			if page > 30 {
				t.Fatalf("paging does not end")
			}
			p, err := tx.Conversations(f.ctx, fl)
			must(t, "Conversations", err)
			if len(p) == 0 {
				break
			}
			if len(p) > 7 {
				t.Fatalf("page of %d, want at most 7", len(p))
			}
			got = append(got, p...)
			last := p[len(p)-1]
			fl.AfterActivity, fl.AfterID = last.LastActivityAt, last.ID
		}
		return nil
	})
	diff(t, "paged ids", ids(all, convID), ids(got, convID))

	f.view(func(tx sb.Tx) error {
		p, err := tx.Conversations(f.ctx, sb.ConversationFilter{AccountID: a})
		must(t, "Conversations", err)
		if len(p) != 50 {
			t.Errorf("default page: %d conversations, want 50", len(p))
		}
		return nil
	})
	add(891)
	f.view(func(tx sb.Tx) error {
		p, err := tx.Conversations(f.ctx, sb.ConversationFilter{AccountID: a, Limit: 5000})
		must(t, "Conversations", err)
		if len(p) != sb.MaxConversationsLimit {
			t.Errorf("page with Limit 5000: %d conversations, want the maximum, %d", len(p), sb.MaxConversationsLimit)
		}
		return nil
	})
}

// testWaitingConversations: open conversations with Waiting set, oldest
// first (R-X2); closed or not waiting ones and other accounts' stay out.
func testWaitingConversations(t *testing.T, f *fixture) {
	w := f.world("a")
	other := f.world("b")
	waiting := func(w *world, created int, status string, wait bool) *sb.Conversation {
		return f.conversation(w.channel, w.contact, func(c *sb.Conversation) {
			c.CreatedAt, c.Status, c.Waiting = at(created), status, wait
		})
	}
	w1 := waiting(w, 3, sb.StatusOpen, true)
	w2 := waiting(w, 1, sb.StatusOpen, true)
	w3 := waiting(w, 2, sb.StatusOpen, true)
	waiting(w, 0, sb.StatusClosed, true)
	waiting(w, 0, sb.StatusOpen, false)
	waiting(other, 0, sb.StatusOpen, true)
	f.view(func(tx sb.Tx) error {
		got, err := tx.WaitingConversations(f.ctx, w.account.ID, 0)
		must(t, "WaitingConversations", err)
		diff(t, "waiting, oldest first", ids([]*sb.Conversation{w2, w3, w1}, convID), ids(got, convID))
		got, err = tx.WaitingConversations(f.ctx, w.account.ID, 2)
		must(t, "WaitingConversations", err)
		diff(t, "waiting, limit 2", ids([]*sb.Conversation{w2, w3}, convID), ids(got, convID))
		return nil
	})
}

// testLatestConversation: the contact's most recently created
// conversation on the channel, open or closed (R-A11, R-X4).
func testLatestConversation(t *testing.T, f *fixture) {
	w := f.world("a")
	a := w.account.ID
	chY := f.channel(a, w.inbox.ID, sb.KindEmail)
	stranger := f.contact(a, "stranger@example.com")
	mk := func(ch *sb.Channel, ct *sb.Contact, created int, status string) *sb.Conversation {
		return f.conversation(ch, ct, func(c *sb.Conversation) {
			c.CreatedAt, c.LastActivityAt, c.Status = at(created), at(created), status
		})
	}
	mk(w.channel, w.contact, 1, sb.StatusClosed)
	latest := mk(w.channel, w.contact, 3, sb.StatusClosed)
	mk(w.channel, w.contact, 2, sb.StatusOpen)
	mk(chY, w.contact, 4, sb.StatusOpen)
	mk(w.channel, stranger, 5, sb.StatusOpen)
	f.view(func(tx sb.Tx) error {
		got, err := tx.LatestConversation(f.ctx, a, w.contact.ID, w.channel.ID)
		must(t, "LatestConversation", err)
		if got.ID != latest.ID {
			t.Errorf("LatestConversation = %s (created %v), want %s (created %v)", got.ID, got.CreatedAt, latest.ID, latest.CreatedAt)
		}
		_, err = tx.LatestConversation(f.ctx, a, stranger.ID, chY.ID)
		wantKind(t, "LatestConversation without any", err, sb.NotFound)
		return nil
	})
}

// testLoadAndTouch: AddLoad adds (and subtracts) and sets
// LastChatAssignedAt only when given a time; TouchUser sets LastActiveAt.
func testLoadAndTouch(t *testing.T, f *fixture) {
	w := f.world("a")
	a, id := w.account.ID, w.user.ID
	ctx := f.ctx
	f.update(a, func(tx sb.Tx) error {
		must(t, "AddLoad", tx.AddLoad(ctx, a, id, 1, at(1)))
		must(t, "AddLoad", tx.AddLoad(ctx, a, id, 1, at(2)))
		return tx.TouchUser(ctx, a, id, at(3))
	})
	f.update(a, func(tx sb.Tx) error {
		must(t, "AddLoad", tx.AddLoad(ctx, a, id, -1, zeroTime))
		return tx.AddLoad(ctx, a, id, 2, zeroTime)
	})
	f.view(func(tx sb.Tx) error {
		u, err := tx.User(ctx, a, id)
		must(t, "User", err)
		if u.OpenChats != 3 || !u.LastChatAssignedAt.Equal(us(at(2))) || !u.LastActiveAt.Equal(us(at(3))) {
			t.Errorf("after AddLoad +1 +1 -1 +2 and TouchUser: OpenChats %d, LastChatAssignedAt %v, LastActiveAt %v; want 3, %v, %v",
				u.OpenChats, u.LastChatAssignedAt, u.LastActiveAt, us(at(2)), us(at(3)))
		}
		return nil
	})
}
