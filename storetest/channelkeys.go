package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	sb "github.com/switchboard-dev/switchboard"
)

// channelKeysTests are the tests of ChannelKeysTx.
var channelKeysTests = []namedTest{
	{"ChannelKeys/UniqueInInstallation", testChannelKeys},
	{"ChannelKeys/Consent", testConsent},
}

// Rule R-F1: a platform key (a Facebook page) is held by at most one
// channel in the whole installation, so by at most one account.
func testChannelKeys(t *testing.T, f *fixture) {
	a, b := f.world("a"), f.world("b")
	page := "messenger:page:1001"
	f.update(a.account.ID, func(tx sb.Tx) error {
		return tx.SetChannelKeys(f.ctx, a.account.ID, a.channel.ID, []string{page, "x:1"})
	})
	f.view(func(tx sb.Tx) error {
		c, err := tx.ChannelByKey(f.ctx, page)
		if err != nil || c.ID != a.channel.ID || c.AccountID != a.account.ID {
			t.Errorf("ChannelByKey = %v, %v; want channel %s", c, err, a.channel.ID)
		}
		if _, err := tx.ChannelByKey(f.ctx, "messenger:page:nope"); !sb.IsKind(err, sb.NotFound) {
			t.Errorf("ChannelByKey(unknown) err = %v, want NotFound", err)
		}
		return nil
	})
	// Another account cannot claim the page.
	err := f.s.Update(f.ctx, b.account.ID, func(tx sb.Tx) error {
		return tx.SetChannelKeys(f.ctx, b.account.ID, b.channel.ID, []string{page})
	})
	if !sb.IsKind(err, sb.Conflict) {
		t.Fatalf("second claim err = %v, want Conflict", err)
	}
	// A channel of another account cannot be named.
	err = f.s.Update(f.ctx, b.account.ID, func(tx sb.Tx) error {
		return tx.SetChannelKeys(f.ctx, b.account.ID, a.channel.ID, []string{"y:1"})
	})
	if !sb.IsKind(err, sb.NotFound) {
		t.Fatalf("claim for another account's channel err = %v, want NotFound", err)
	}
	// Replacing drops the old keys; then b may claim the page.
	f.update(a.account.ID, func(tx sb.Tx) error {
		return tx.SetChannelKeys(f.ctx, a.account.ID, a.channel.ID, []string{"x:1"})
	})
	f.update(b.account.ID, func(tx sb.Tx) error {
		return tx.SetChannelKeys(f.ctx, b.account.ID, b.channel.ID, []string{page})
	})
	// Deleting the channel frees its keys.
	f.update(a.account.ID, func(tx sb.Tx) error { return tx.DeleteChannel(f.ctx, a.account.ID, a.channel.ID) })
	f.view(func(tx sb.Tx) error {
		if _, err := tx.ChannelByKey(f.ctx, "x:1"); !sb.IsKind(err, sb.NotFound) {
			t.Errorf("key of a deleted channel: err = %v, want NotFound", err)
		}
		if c, err := tx.ChannelByKey(f.ctx, page); err != nil || c.ID != b.channel.ID {
			t.Errorf("ChannelByKey after the move = %v, %v", c, err)
		}
		return nil
	})
}

func testConsent(t *testing.T, f *fixture) {
	a, b := f.world("a"), f.world("b")
	c := &sb.Consent{AccountID: a.account.ID, ChannelID: a.channel.ID, Subject: "psid-1",
		Status: sb.ConsentPending, Held: []byte(`[{"mid":"m1"}]`), UpdatedAt: at(1)}
	f.update(a.account.ID, func(tx sb.Tx) error { return tx.PutConsent(f.ctx, c) })
	c.Status, c.Held, c.UpdatedAt = sb.ConsentAccepted, []byte(`[]`), at(2)
	f.update(a.account.ID, func(tx sb.Tx) error { return tx.PutConsent(f.ctx, c) })
	f.view(func(tx sb.Tx) error {
		got, err := tx.Consent(f.ctx, a.account.ID, a.channel.ID, "psid-1")
		if err != nil {
			t.Fatalf("Consent: %v", err)
		}
		want := *c
		want.UpdatedAt = us(want.UpdatedAt)
		if d := cmp.Diff(&want, got); d != "" {
			t.Errorf("Consent (-want +got):\n%s", d)
		}
		if _, err := tx.Consent(f.ctx, b.account.ID, a.channel.ID, "psid-1"); !sb.IsKind(err, sb.NotFound) {
			t.Errorf("Consent from another account: err = %v, want NotFound", err)
		}
		return nil
	})
	// Another account cannot overwrite it.
	err := f.s.Update(f.ctx, b.account.ID, func(tx sb.Tx) error {
		return tx.PutConsent(f.ctx, &sb.Consent{AccountID: b.account.ID, ChannelID: a.channel.ID, Subject: "psid-1", Status: sb.ConsentDeclined, UpdatedAt: at(3)})
	})
	if !sb.IsKind(err, sb.NotFound) {
		t.Errorf("PutConsent over another account's row: err = %v, want NotFound", err)
	}
}
