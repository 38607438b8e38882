package storetest

import (
	"slices"
	"testing"

	sb "github.com/switchboard-dev/switchboard"
)

// webTests are the tests of the methods the web inbox adds (WebTx).
var webTests = []namedTest{
	{"Web/DeleteToken", testDeleteToken},
	{"Web/ContactsByIDs", testContactsByIDs},
	{"Web/ConversationCounts", testConversationCounts},
}

// testDeleteToken: sign-out removes the token, only in its own account.
func testDeleteToken(t *testing.T, f *fixture) {
	w, other := f.world("a"), f.world("b")
	if err := f.s.Update(f.ctx, other.account.ID, func(tx sb.Tx) error {
		return tx.DeleteToken(f.ctx, other.account.ID, w.token.Hash)
	}); !sb.IsKind(err, sb.NotFound) {
		t.Fatalf("deleting another account's token: err = %v, want NotFound", err)
	}
	f.update(w.account.ID, func(tx sb.Tx) error { return tx.DeleteToken(f.ctx, w.account.ID, w.token.Hash) })
	f.view(func(tx sb.Tx) error {
		if _, err := tx.TokenByHash(f.ctx, w.token.Hash); !sb.IsKind(err, sb.NotFound) {
			t.Errorf("TokenByHash after DeleteToken: err = %v, want NotFound", err)
		}
		if _, err := tx.TokenByHash(f.ctx, other.token.Hash); err != nil {
			t.Errorf("the other account's token is gone: %v", err)
		}
		return nil
	})
	if err := f.s.Update(f.ctx, w.account.ID, func(tx sb.Tx) error {
		return tx.DeleteToken(f.ctx, w.account.ID, w.token.Hash)
	}); !sb.IsKind(err, sb.NotFound) {
		t.Fatalf("deleting twice: err = %v, want NotFound", err)
	}
}

// testContactsByIDs returns the account's contacts only.
func testContactsByIDs(t *testing.T, f *fixture) {
	w, other := f.world("a"), f.world("b")
	second := f.contact(w.account.ID, "second@example.com")
	f.view(func(tx sb.Tx) error {
		got, err := tx.ContactsByIDs(f.ctx, w.account.ID, []string{w.contact.ID, second.ID, other.contact.ID, "missing"})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range got {
			ids = append(ids, c.ID)
		}
		slices.Sort(ids)
		want := []string{w.contact.ID, second.ID}
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Errorf("ContactsByIDs = %v, want %v", ids, want)
		}
		if got, err := tx.ContactsByIDs(f.ctx, w.account.ID, nil); err != nil || len(got) != 0 {
			t.Errorf("ContactsByIDs(nil) = %v, %v; want none", got, err)
		}
		return nil
	})
}

// testConversationCounts groups by inbox, assignee and team, per status
// and account.
func testConversationCounts(t *testing.T, f *fixture) {
	w := f.world("a") // one open conversation assigned to its agent
	f.world("b")      // the same in another account, which must not be counted
	a := w.account.ID
	in2 := f.inbox(a, "second")
	ch2 := f.channel(a, in2.ID, sb.KindEmail)
	for range 3 {
		f.conversation(ch2, w.contact)
	}
	f.conversation(ch2, w.contact, func(c *sb.Conversation) { c.TeamID = w.team.ID })
	f.conversation(w.channel, w.contact, func(c *sb.Conversation) { c.Status = sb.StatusClosed })
	f.view(func(tx sb.Tx) error {
		open, err := tx.ConversationCounts(f.ctx, a, sb.StatusOpen)
		if err != nil {
			t.Fatal(err)
		}
		want := map[sb.ConversationCount]bool{
			{InboxID: w.inbox.ID, AssigneeID: w.user.ID, N: 1}: true,
			{InboxID: in2.ID, N: 3}:                            true,
			{InboxID: in2.ID, TeamID: w.team.ID, N: 1}:         true,
		}
		if len(open) != len(want) {
			t.Errorf("open counts = %+v, want %d groups", open, len(want))
		}
		for _, c := range open {
			if !want[c] {
				t.Errorf("unexpected open group %+v", c)
			}
		}
		closed, err := tx.ConversationCounts(f.ctx, a, sb.StatusClosed)
		if err != nil {
			t.Fatal(err)
		}
		if len(closed) != 1 || closed[0].N != 1 || closed[0].InboxID != w.inbox.ID {
			t.Errorf("closed counts = %+v, want one group of 1 in %s", closed, w.inbox.ID)
		}
		return nil
	})
}
