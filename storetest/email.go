package storetest

import (
	"testing"

	sb "github.com/switchboard-dev/switchboard"
)

// emailTests are the email channel's part of the suite (issue 3).
var emailTests = []namedTest{
	{"Email/ChannelAddresses", testChannelAddresses},
	{"Email/SMTPSettings", testSMTPSettings},
}

// testChannelAddresses: an address finds its channel from any account,
// case-insensitively; addresses are unique in the installation; replacing
// and deleting the channel drop the old ones.
func testChannelAddresses(t *testing.T, f *fixture) {
	a, b := f.account("A"), f.account("B")
	chA := f.channel(a.ID, f.inbox(a.ID, "in").ID, sb.KindEmail)
	chB := f.channel(b.ID, f.inbox(b.ID, "in").ID, sb.KindEmail)
	f.update(a.ID, func(tx sb.Tx) error {
		return tx.SetChannelAddresses(f.ctx, a.ID, chA.ID, []string{"support@acme.test", "help@acme.test"})
	})
	f.view(func(tx sb.Tx) error {
		got, err := tx.ChannelByAddress(f.ctx, "Support@ACME.test")
		must(t, "ChannelByAddress", err)
		if got.ID != chA.ID || got.AccountID != a.ID || got.Kind != sb.KindEmail {
			t.Errorf("ChannelByAddress = %s in %s, want %s in %s", got.ID, got.AccountID, chA.ID, a.ID)
		}
		_, err = tx.ChannelByAddress(f.ctx, "nobody@acme.test")
		wantKind(t, "ChannelByAddress(unknown)", err, sb.NotFound)
		return nil
	})
	// Another account cannot take the address.
	err := f.s.Update(f.ctx, b.ID, func(tx sb.Tx) error {
		return tx.SetChannelAddresses(f.ctx, b.ID, chB.ID, []string{"HELP@acme.test"})
	})
	wantKind(t, "SetChannelAddresses(taken by another account)", err, sb.Conflict)
	// Nor can a channel of another account be given addresses.
	err = f.s.Update(f.ctx, b.ID, func(tx sb.Tx) error {
		return tx.SetChannelAddresses(f.ctx, b.ID, chA.ID, []string{"x@b.test"})
	})
	wantKind(t, "SetChannelAddresses(other account's channel)", err, sb.NotFound)
	// Replacing frees the old addresses.
	f.update(a.ID, func(tx sb.Tx) error {
		return tx.SetChannelAddresses(f.ctx, a.ID, chA.ID, []string{"support@acme.test"})
	})
	f.update(b.ID, func(tx sb.Tx) error {
		return tx.SetChannelAddresses(f.ctx, b.ID, chB.ID, []string{"help@acme.test"})
	})
	// Deleting the channel frees its addresses.
	f.update(a.ID, func(tx sb.Tx) error { return tx.DeleteChannel(f.ctx, a.ID, chA.ID) })
	f.view(func(tx sb.Tx) error {
		_, err := tx.ChannelByAddress(f.ctx, "support@acme.test")
		wantKind(t, "ChannelByAddress(deleted channel)", err, sb.NotFound)
		got, err := tx.ChannelByAddress(f.ctx, "help@acme.test")
		must(t, "ChannelByAddress(help)", err)
		if got.ID != chB.ID {
			t.Errorf("help@ routes to %s, want %s", got.ID, chB.ID)
		}
		return nil
	})
}

// testSMTPSettings: set, replace and read back per account.
func testSMTPSettings(t *testing.T, f *fixture) {
	a, b := f.account("A"), f.account("B")
	f.view(func(tx sb.Tx) error {
		_, err := tx.SMTPSettings(f.ctx, a.ID)
		wantKind(t, "SMTPSettings(unset)", err, sb.NotFound)
		return nil
	})
	s := &sb.SMTPSettings{AccountID: a.ID, Host: "smtp.acme.test", Port: 587, Username: "u", Password: "p",
		TLS: sb.SMTPTLSStartTLS, FromAddress: "noreply@acme.test", UpdatedAt: base}
	f.update(a.ID, func(tx sb.Tx) error { return tx.SetSMTPSettings(f.ctx, s) })
	s2 := *s
	s2.Host, s2.Password, s2.UpdatedAt = "relay.acme.test", "p2", at(1)
	f.update(a.ID, func(tx sb.Tx) error { return tx.SetSMTPSettings(f.ctx, &s2) })
	f.view(func(tx sb.Tx) error {
		got, err := tx.SMTPSettings(f.ctx, a.ID)
		must(t, "SMTPSettings", err)
		want := s2
		want.UpdatedAt = us(at(1))
		diff(t, "SMTPSettings", &want, got)
		_, err = tx.SMTPSettings(f.ctx, b.ID)
		wantKind(t, "SMTPSettings(other account)", err, sb.NotFound)
		return nil
	})
	err := f.s.Update(f.ctx, "", func(tx sb.Tx) error {
		return tx.SetSMTPSettings(f.ctx, &sb.SMTPSettings{AccountID: "nope", Host: "h", Port: 25, TLS: sb.SMTPTLSNone})
	})
	wantKind(t, "SetSMTPSettings(no account)", err, sb.NotFound)
}
