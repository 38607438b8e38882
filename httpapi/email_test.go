package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/httpapi"
)

// TestSMTPSettingsAPI: admins read and write the relay (R-E3); the
// password is write-only; agents get 403.
func TestSMTPSettingsAPI(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.setup(t)
		_, agent := e.user(t, "Ben", nil)
		var v map[string]any
		e.want(t, http.StatusOK, "GET", "/api/v1/settings/smtp", e.admin, nil).into(t, &v)
		if v["configured"] != false {
			t.Errorf("fresh settings: %v", v)
		}
		r := e.want(t, http.StatusOK, "PUT", "/api/v1/settings/smtp", e.admin, map[string]any{
			"host": "smtp.acme.test", "port": 587, "username": "relay", "password": "hunter2-secret", "tls": "starttls", "from_address": "noreply@acme.test",
		})
		if bytes.Contains(r.Body, []byte("hunter2")) {
			t.Errorf("the password came back: %s", r.Body)
		}
		r = e.want(t, http.StatusOK, "GET", "/api/v1/settings/smtp", e.admin, nil)
		r.into(t, &v)
		if bytes.Contains(r.Body, []byte("hunter2")) || v["password_set"] != true || v["host"] != "smtp.acme.test" {
			t.Errorf("GET after PUT: %s", r.Body)
		}
		e.wantErr(t, http.StatusBadRequest, "invalid_tls", "tls", "PUT", "/api/v1/settings/smtp", e.admin, map[string]any{"host": "h", "port": 25, "tls": "ssl3"})
		e.wantErr(t, http.StatusForbidden, "admin_required", "", "GET", "/api/v1/settings/smtp", agent, nil)
		e.wantErr(t, http.StatusForbidden, "admin_required", "", "PUT", "/api/v1/settings/smtp", agent, map[string]any{"host": "h", "port": 25})
	})
}

// TestEmailChannelAddressAPI: R-E2 and unique addresses answer 422 and
// 409 with the documented error shape.
func TestEmailChannelAddressAPI(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.setup(t)
		in := e.inbox(t, "Support")
		body := func(addr string) map[string]any {
			return map[string]any{"kind": "email", "name": "Support", "config": map[string]any{"address": addr}}
		}
		// Rule R-E2
		e.wantErr(t, http.StatusUnprocessableEntity, "address_is_personal", "config.address", "POST", "/api/v1/inboxes/"+in+"/channels", e.admin, body("admin@acme.test"))
		e.want(t, http.StatusCreated, "POST", "/api/v1/inboxes/"+in+"/channels", e.admin, body("support@acme.test"))
		e.wantErr(t, http.StatusConflict, "address_taken", "config.address", "POST", "/api/v1/inboxes/"+in+"/channels", e.admin, body("SUPPORT@acme.test"))
		e.wantErr(t, http.StatusUnprocessableEntity, "address_is_team_address", "email", "POST", "/api/v1/users", e.admin,
			map[string]any{"email": "support@acme.test", "name": "S", "role": "agent", "password": password})
	})
}

// TestAttachmentDownload: an attachment listed in a message's meta is
// served as a download to those who may see the conversation (R-I5).
func TestAttachmentDownload(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		const sum = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" // sha256("test")
		if err := os.WriteFile(filepath.Join(dir, sum), []byte("test"), 0o600); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, dsn, func(c *httpapi.Config) {
			c.Attachments = func(s string) (io.ReadSeekCloser, error) { return os.Open(filepath.Join(dir, s)) }
		})
		e.setup(t)
		_, outsider := e.user(t, "Olga", nil)
		team := e.team(t, "Support", []string{e.adminID}, nil)
		in := e.inbox(t, "Support", team)
		var ch app.ChannelView
		e.want(t, http.StatusCreated, "POST", "/api/v1/inboxes/"+in+"/channels", e.admin, map[string]any{"kind": "email", "name": "Support"}).into(t, &ch)
		meta := `{"attachments":[{"filename":"résumé <1>.html","content_type":"text/html","size":4,"sha256":"` + sum + `"}]}`
		res, err := e.svc.Deliver(context.Background(), ch.AccountID, ch.ID, app.InboundInput{
			Contact: app.InboundContact{Email: "a@example.com"}, Body: "see attached", Meta: json.RawMessage(meta)})
		if err != nil {
			t.Fatal(err)
		}
		path := "/api/v1/conversations/" + res.Conversation.ID + "/attachments/" + sum
		req := e.newRequest(t, "GET", path, e.admin, nil)
		hr, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(hr.Body)
		hr.Body.Close()
		cd := hr.Header.Get("Content-Disposition")
		if hr.StatusCode != 200 || string(b) != "test" || !strings.HasPrefix(cd, "attachment;") || hr.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("download: %d %q, Content-Disposition %q, headers %v", hr.StatusCode, b, cd, hr.Header)
		}
		e.wantErr(t, http.StatusNotFound, "attachment_not_found", "", "GET", "/api/v1/conversations/"+res.Conversation.ID+"/attachments/"+strings.Repeat("0", 64), e.admin, nil)
		// Rule R-I5: someone without access to the inbox does not get it.
		e.wantErr(t, http.StatusNotFound, "not_found", "", "GET", path, outsider, nil)
	})
}
