package app_test

import (
	"encoding/json"
	"strings"
	"testing"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

func emailChannelInput(name, config string) app.ChannelInput {
	return app.ChannelInput{Kind: sb.KindEmail, Name: name, Config: json.RawMessage(config), NewInbox: &app.InboxInput{Name: "Inbox " + name}}
}

func wantErr(t *testing.T, what string, err error, k sb.Kind, code string) {
	t.Helper()
	if err == nil || !sb.IsKind(err, k) {
		t.Fatalf("%s: error %v, want kind %v", what, err, k)
	}
	if c, _ := sb.PublicMessage(err); c != code {
		t.Errorf("%s: code %q, want %q (%v)", what, c, code, err)
	}
}

// TestEmailAddresses: R-E2 both ways, addresses unique in the installation,
// and a freed address can be reused.
func TestEmailAddresses(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ada := e.agent("ada", 0)
		t.Run("R-E2 a team address cannot be a user's address", func(t *testing.T) {
			_, err := e.svc.CreateChannel(e.ctx, e.admin, "", emailChannelInput("support", `{"address":"ADA@acme.test"}`))
			wantErr(t, "create with a user's address", err, sb.RuleViolation, "address_is_personal")
			_, err = e.svc.CreateChannel(e.ctx, e.admin, "", emailChannelInput("support", `{"address":"support@acme.test","aliases":["admin@acme.test"]}`))
			wantErr(t, "create with a user's address as alias", err, sb.RuleViolation, "address_is_personal")
		})
		ch := must(e.svc.CreateChannel(e.ctx, e.admin, "", emailChannelInput("support", `{"address":"Support@Acme.test","aliases":["help@acme.test"]}`)))(t)
		t.Run("R-E2 a user's address cannot be a team address", func(t *testing.T) {
			_, err := e.svc.CreateUser(e.ctx, e.admin, app.UserInput{Email: "support@acme.test", Name: "S", Role: sb.RoleAgent, Password: "password 123"})
			wantErr(t, "create user with the team address", err, sb.RuleViolation, "address_is_team_address")
			addr := "help@acme.test"
			_, err = e.svc.UpdateUser(e.ctx, e.admin, ada.UserID, app.UserPatch{Email: &addr})
			wantErr(t, "rename user to an alias", err, sb.RuleViolation, "address_is_team_address")
			patch := json.RawMessage(`{"address":"support@acme.test","aliases":["ada@acme.test"]}`)
			_, err = e.svc.UpdateChannel(e.ctx, e.admin, ch.ID, app.ChannelPatch{Config: patch})
			wantErr(t, "update with a user's address", err, sb.RuleViolation, "address_is_personal")
		})
		t.Run("an address belongs to one channel of the installation", func(t *testing.T) {
			_, err := e.svc.CreateChannel(e.ctx, e.admin, "", emailChannelInput("second", `{"address":"HELP@acme.test"}`))
			wantErr(t, "second channel with a taken address", err, sb.Conflict, "address_taken")
			// Dropping the alias frees it.
			must(e.svc.UpdateChannel(e.ctx, e.admin, ch.ID, app.ChannelPatch{Config: json.RawMessage(`{"address":"support@acme.test"}`)}))(t)
			must(e.svc.CreateChannel(e.ctx, e.admin, "", emailChannelInput("second", `{"address":"help@acme.test"}`)))(t)
		})
		t.Run("config is validated", func(t *testing.T) {
			for cfg, field := range map[string]string{
				`{"address":"not an address"}`:                            "invalid_config.address",
				`{"address":"a@acme.test","from_name_mode":"agent_only"}`: "invalid_config.from_name_mode",
				`{"address":7}`:               "invalid_config",
				`{"aliases":["x@acme.test"]}`: "invalid_config.address",
			} {
				_, err := e.svc.CreateChannel(e.ctx, e.admin, "", emailChannelInput("bad", cfg))
				wantErr(t, cfg, err, sb.Invalid, field)
			}
		})
	})
}

// TestSMTPSettings: admins only; the password is write-only and kept when
// left out (R-E3's relay).
func TestSMTPSettings(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		agent := e.agent("ben", 0)
		_, err := e.svc.SMTPSettings(e.ctx, agent)
		wantErr(t, "agent reads", err, sb.Forbidden, "admin_required")
		v := must(e.svc.SMTPSettings(e.ctx, e.admin))(t)
		if v.Configured || v.PasswordSet {
			t.Errorf("fresh settings = %+v", v)
		}
		pw := "s3cret"
		v = must(e.svc.SetSMTPSettings(e.ctx, e.admin, app.SMTPSettingsInput{Host: "smtp.acme.test", Port: 587, Username: "u", Password: &pw, FromAddress: "NoReply@acme.test"}))(t)
		if !v.Configured || !v.PasswordSet || v.TLS != sb.SMTPTLSStartTLS || v.FromAddress != "noreply@acme.test" {
			t.Errorf("after set: %+v", v)
		}
		b, _ := json.Marshal(v)
		if strings.Contains(string(b), pw) {
			t.Errorf("the password shows in the API's JSON: %s", b)
		}
		// Leaving the password out keeps it.
		v = must(e.svc.SetSMTPSettings(e.ctx, e.admin, app.SMTPSettingsInput{Host: "relay.acme.test", Port: 465, TLS: "tls"}))(t)
		if !v.PasswordSet {
			t.Error("the password was dropped when left out")
		}
		_, err = e.svc.SetSMTPSettings(e.ctx, e.admin, app.SMTPSettingsInput{Host: "relay.acme.test", Port: 0})
		wantErr(t, "port 0", err, sb.Invalid, "invalid_port")
		_, err = e.svc.SetSMTPSettings(e.ctx, agent, app.SMTPSettingsInput{Host: "x", Port: 25})
		wantErr(t, "agent writes", err, sb.Forbidden, "admin_required")
	})
}
