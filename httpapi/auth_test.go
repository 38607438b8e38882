package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/apidoc"
	"github.com/switchboard-dev/switchboard/apidoc/apitest"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/httpapi"
)

func TestSetupAndTokens(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		t.Run("setup answers 201 with a working token", func(t *testing.T) {
			e.setup(t)
			var u app.UserView
			e.want(t, http.StatusOK, "GET", "/api/v1/users/me", e.admin, nil).into(t, &u)
			if u.ID != e.adminID || u.Role != sb.RoleAdmin || !u.PaidSeat {
				t.Fatalf("me = %+v", u.User)
			}
		})
		t.Run("setup a second time answers 409", func(t *testing.T) {
			e.wantErr(t, http.StatusConflict, "already_set_up", "", "POST", "/api/v1/setup", "", map[string]any{
				"account_name": "Other", "admin_email": "other@acme.test", "admin_name": "O", "password": password,
			})
		})
		t.Run("login with the right password", func(t *testing.T) {
			var res struct {
				Token string       `json:"token"`
				User  app.UserView `json:"user"`
			}
			e.want(t, http.StatusCreated, "POST", "/api/v1/tokens", "", map[string]any{"email": "ADMIN@acme.test", "password": password}).into(t, &res)
			if res.Token == "" || res.User.ID != e.adminID {
				t.Fatalf("login = %+v", res)
			}
			e.want(t, http.StatusOK, "GET", "/api/v1/users", res.Token, nil)
		})
		t.Run("login with a wrong password or email answers 401", func(t *testing.T) {
			e.wantErr(t, http.StatusUnauthorized, "bad_credentials", "", "POST", "/api/v1/tokens", "", map[string]any{"email": "admin@acme.test", "password": "wrong password"})
			e.wantErr(t, http.StatusUnauthorized, "bad_credentials", "", "POST", "/api/v1/tokens", "", map[string]any{"email": "nobody@acme.test", "password": password})
		})
		t.Run("no token answers 401 with WWW-Authenticate", func(t *testing.T) {
			r := e.want(t, http.StatusUnauthorized, "GET", "/api/v1/users", "", nil)
			checkErr(t, r, http.StatusUnauthorized, "unauthenticated", "")
			if got := r.Header.Get("WWW-Authenticate"); got != "Bearer" {
				t.Fatalf("WWW-Authenticate = %q", got)
			}
		})
		t.Run("a bad token answers 401", func(t *testing.T) {
			r := e.want(t, http.StatusUnauthorized, "GET", "/api/v1/conversations", "sb_not-a-token", nil)
			checkErr(t, r, http.StatusUnauthorized, "bad_token", "")
			if got := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Fatalf("WWW-Authenticate = %q", got)
			}
			req := e.newRequest(t, "GET", "/api/v1/users", "", nil)
			req.Header.Set("Authorization", "Basic YWRtaW46cGFzc3dvcmQ=")
			checkErr(t, e.send(t, req, true), http.StatusUnauthorized, "unauthenticated", "")
		})
	})
}

// TestBadInput covers the decoder and the error shape for everything that
// is wrong with a request rather than with what it asks.
func TestBadInput(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.setup(t)
		inboxID := e.inbox(t, "Support")
		users := "/api/v1/users"
		t.Run("malformed JSON", func(t *testing.T) {
			e.wantErr(t, http.StatusBadRequest, "malformed_json", "", "POST", users, e.admin, `{"email": "x@acme.test",`)
			e.wantErr(t, http.StatusBadRequest, "malformed_json", "", "POST", users, e.admin, `{email: 1}`)
		})
		t.Run("unknown field", func(t *testing.T) {
			e.wantErr(t, http.StatusBadRequest, "unknown_field", "nickname", "POST", users, e.admin, `{"email": "x@acme.test", "nickname": "x"}`)
		})
		t.Run("wrong type names the field and the type", func(t *testing.T) {
			eb := e.wantErr(t, http.StatusBadRequest, "invalid_type", "chat_capacity", "POST", users, e.admin, `{"email": "x@acme.test", "chat_capacity": "ten"}`)
			if !strings.Contains(eb.Error.Message, "integer") {
				t.Fatalf("message %q does not name the type", eb.Error.Message)
			}
			e.wantErr(t, http.StatusBadRequest, "invalid_type", "routing.enabled", "POST", "/api/v1/inboxes/"+inboxID+"/channels", e.admin,
				`{"kind": "email", "name": "Mail", "routing": {"enabled": "yes"}}`)
		})
		t.Run("trailing data", func(t *testing.T) {
			e.wantErr(t, http.StatusBadRequest, "trailing_data", "", "POST", "/api/v1/teams", e.admin, `{"name": "A"} {"name": "B"}`)
		})
		t.Run("empty body", func(t *testing.T) {
			e.wantErr(t, http.StatusBadRequest, "body_required", "", "POST", "/api/v1/teams", e.admin, "")
			req := e.newRequest(t, "POST", "/api/v1/teams", e.admin, nil) // no body, no Content-Type
			checkErr(t, e.send(t, req, true), http.StatusBadRequest, "body_required", "")
		})
		t.Run("oversized body answers 413", func(t *testing.T) {
			big := `{"name": "` + strings.Repeat("x", httpapi.DefaultMaxBodyBytes) + `"}`
			e.wantErr(t, http.StatusRequestEntityTooLarge, "request_too_large", "", "POST", "/api/v1/teams", e.admin, big)
		})
		t.Run("wrong content type answers 415", func(t *testing.T) {
			req := e.newRequest(t, "POST", "/api/v1/teams", e.admin, `{"name": "A"}`)
			req.Header.Set("Content-Type", "text/plain")
			checkErr(t, e.send(t, req, false), http.StatusUnsupportedMediaType, "unsupported_media_type", "")
			req = e.newRequest(t, "POST", "/api/v1/teams", e.admin, `{"name": "A"}`)
			req.Header.Del("Content-Type")
			checkErr(t, e.send(t, req, false), http.StatusUnsupportedMediaType, "unsupported_media_type", "")
		})
		t.Run("bad limit answers 400", func(t *testing.T) {
			for _, l := range []string{"0", "201", "ten", "-1", ""} {
				e.wantErr(t, http.StatusBadRequest, "invalid_limit", "limit", "GET", "/api/v1/contacts?limit="+l, e.admin, nil)
			}
			e.wantErr(t, http.StatusBadRequest, "invalid_cursor", "cursor", "GET", "/api/v1/users?cursor=bogus", e.admin, nil)
		})
		t.Run("unknown ids answer 404", func(t *testing.T) {
			for _, p := range []string{"/api/v1/users/nope", "/api/v1/contacts/nope", "/api/v1/channels/nope", "/api/v1/conversations/nope",
				"/api/v1/conversations/nope/messages", "/api/v1/conversations/nope/routing", "/api/v1/inboxes/nope/channels"} {
				r := e.want(t, http.StatusNotFound, "GET", p, e.admin, nil)
				var eb errBody
				r.into(t, &eb)
				if eb.Error.Code == "" || eb.Error.Message == "" {
					t.Fatalf("%s: %s", p, r.Body)
				}
			}
			e.want(t, http.StatusNotFound, "PATCH", "/api/v1/teams/nope", e.admin, map[string]any{"name": "X"})
			e.want(t, http.StatusNotFound, "DELETE", "/api/v1/teams/nope", e.admin, nil)
		})
		t.Run("unknown route and wrong method keep the error shape", func(t *testing.T) {
			checkErr(t, e.send(t, e.newRequest(t, "GET", "/api/v1/nothing-here", e.admin, nil), false), http.StatusNotFound, "not_found", "")
			r := e.send(t, e.newRequest(t, "DELETE", "/api/v1/users", e.admin, nil), false)
			checkErr(t, r, http.StatusMethodNotAllowed, "method_not_allowed", "")
			if allow := r.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
				t.Fatalf("Allow = %q", allow)
			}
		})
	})
}

// TestOtherAccount proves that ids of another account are not found, for
// every kind of resource.
func TestOtherAccount(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.setup(t)
		o := e.otherAccount(t)
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/v1/users/" + o.user, nil},
			{"PATCH", "/api/v1/users/" + o.user, map[string]any{"name": "Mine now"}},
			{"PATCH", "/api/v1/teams/" + o.team, map[string]any{"name": "Mine now"}},
			{"DELETE", "/api/v1/teams/" + o.team, nil},
			{"PATCH", "/api/v1/inboxes/" + o.inbox, map[string]any{"name": "Mine now"}},
			{"GET", "/api/v1/inboxes/" + o.inbox + "/channels", nil},
			{"POST", "/api/v1/inboxes/" + o.inbox + "/channels", map[string]any{"kind": "email", "name": "Mine"}},
			{"GET", "/api/v1/channels/" + o.channel, nil},
			{"PATCH", "/api/v1/channels/" + o.channel, map[string]any{"name": "Mine now"}},
			{"DELETE", "/api/v1/channels/" + o.channel, nil},
			{"POST", "/api/v1/channels/" + o.channel + "/inbound", map[string]any{"contact": map[string]any{"email": "x@y.test"}, "body": "hi"}},
			{"GET", "/api/v1/contacts/" + o.contact, nil},
			{"PATCH", "/api/v1/contacts/" + o.contact, map[string]any{"name": "Mine now"}},
			{"GET", "/api/v1/conversations/" + o.conversation, nil},
			{"GET", "/api/v1/conversations/" + o.conversation + "/messages", nil},
			{"POST", "/api/v1/conversations/" + o.conversation + "/messages", map[string]any{"body": "hi"}},
			{"POST", "/api/v1/conversations/" + o.conversation + "/assign", map[string]any{"user_id": "me"}},
			{"POST", "/api/v1/conversations/" + o.conversation + "/close", nil},
			{"GET", "/api/v1/conversations/" + o.conversation + "/routing", nil},
			{"PUT", "/api/v1/users/" + o.user + "/status", map[string]any{"status": "away"}},
		} {
			t.Run(c.method+" "+strings.ReplaceAll(c.path, "/", "_"), func(t *testing.T) {
				e.want(t, http.StatusNotFound, c.method, c.path, e.admin, c.body)
			})
		}
		t.Run("lists leave the other account out", func(t *testing.T) {
			var us app.Page[*app.UserView]
			e.want(t, http.StatusOK, "GET", "/api/v1/users", e.admin, nil).into(t, &us)
			if len(us.Items) != 1 {
				t.Fatalf("users: %d, want only the admin", len(us.Items))
			}
			var cs app.Page[*sb.Contact]
			e.want(t, http.StatusOK, "GET", "/api/v1/contacts", e.admin, nil).into(t, &cs)
			if len(cs.Items) != 0 {
				t.Fatalf("contacts: %d, want none", len(cs.Items))
			}
		})
	})
}

// otherIDs are the rows of a second account.
type otherIDs struct{ user, team, inbox, channel, contact, conversation string }

// otherAccount creates a second account through the store (setup only
// makes one) and a conversation in it through app.Deliver.
func (e *env) otherAccount(t *testing.T) otherIDs {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	acct := &sb.Account{ID: "acct-other", Name: "Other", TimeZone: "UTC", CreatedAt: now}
	u := &sb.User{ID: "user-other", AccountID: acct.ID, Email: "boss@other.test", Name: "Other Boss", Role: sb.RoleAdmin,
		PaidSeat: true, Status: sb.Available, PasswordHash: "x", CreatedAt: now}
	err := e.st.Update(ctx, "", func(tx sb.Tx) error {
		if err := tx.CreateAccount(ctx, acct); err != nil {
			return err
		}
		return tx.CreateUser(ctx, u)
	})
	if err != nil {
		t.Fatal(err)
	}
	tm := &sb.Team{ID: "team-other", AccountID: acct.ID, Name: "Other team", MainMemberIDs: []string{u.ID}, ExtraMemberIDs: []string{}, CreatedAt: now}
	in := &sb.Inbox{ID: "inbox-other", AccountID: acct.ID, Name: "Other inbox", TeamIDs: []string{}, CreatedAt: now}
	ch := &sb.Channel{ID: "channel-other", AccountID: acct.ID, InboxID: in.ID, Kind: sb.KindEmail, Name: "Other mail", Config: []byte(`{}`),
		Routing: sb.RoutingRule{Mode: sb.ModeUnassigned, Fallback: sb.Fallback{Mode: sb.FallbackNone}}, CreatedAt: now}
	ct := &sb.Contact{ID: "contact-other", AccountID: acct.ID, Email: "someone@other.test", CreatedAt: now}
	err = e.st.Update(ctx, acct.ID, func(tx sb.Tx) error {
		for _, f := range []func() error{
			func() error { return tx.CreateTeam(ctx, tm) },
			func() error { return tx.CreateInbox(ctx, in) },
			func() error { return tx.CreateChannel(ctx, ch) },
			func() error { return tx.CreateContact(ctx, ct) },
		} {
			if err := f(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.Deliver(ctx, acct.ID, ch.ID, app.InboundInput{Contact: app.InboundContact{Email: ct.Email}, Body: "hello", ExternalID: "o-1"})
	if err != nil {
		t.Fatal(err)
	}
	return otherIDs{user: u.ID, team: tm.ID, inbox: in.ID, channel: ch.ID, contact: ct.ID, conversation: res.Conversation.ID}
}

func TestOperations(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, func(c *httpapi.Config) {
			c.Extra = func(mux *http.ServeMux) {
				mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("secret internal detail") })
			}
		})
		t.Run("healthz", func(t *testing.T) {
			r := e.want(t, http.StatusOK, "GET", "/healthz", "", nil)
			if strings.TrimSpace(string(r.Body)) != `{"status":"ok"}` {
				t.Fatalf("body %s", r.Body)
			}
		})
		t.Run("openapi.json is the document, public", func(t *testing.T) {
			r := e.want(t, http.StatusOK, "GET", "/api/v1/openapi.json", "", nil)
			if !bytes.Equal(r.Body, apidoc.JSON()) {
				t.Fatal("served document differs from apidoc.JSON()")
			}
		})
		t.Run("request id is echoed or made", func(t *testing.T) {
			req := e.newRequest(t, "GET", "/healthz", "", nil)
			req.Header.Set("X-Request-Id", "abc-123")
			if got := e.send(t, req, true).Header.Get("X-Request-Id"); got != "abc-123" {
				t.Fatalf("X-Request-Id = %q", got)
			}
			if got := e.do(t, "GET", "/healthz", "", nil).Header.Get("X-Request-Id"); len(got) < 16 {
				t.Fatalf("generated X-Request-Id = %q", got)
			}
		})
		t.Run("a panic answers 500 without its text", func(t *testing.T) {
			r := e.send(t, e.newRequest(t, "GET", "/boom", "", nil), false)
			eb := checkErr(t, r, http.StatusInternalServerError, "internal", "")
			if strings.Contains(string(r.Body), "secret") {
				t.Fatalf("internal text leaked: %s", eb.Error.Message)
			}
		})
		t.Run("metrics count requests by route pattern", func(t *testing.T) {
			r := e.want(t, http.StatusOK, "GET", "/metrics", "", nil)
			body := string(r.Body)
			for _, want := range []string{
				`switchboard_http_requests_total{method="GET",route="GET /healthz",status="200"}`,
				`switchboard_http_requests_total{method="GET",route="GET /boom",status="500"}`,
				`switchboard_http_request_duration_seconds_bucket{route="GET /healthz"`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("metrics lack %s", want)
				}
			}
		})
		t.Run("every operation of the document is routed", func(t *testing.T) {
			doc, err := document()
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for path, item := range doc.Paths.Map() {
				for method := range item.Operations() {
					n++
					req := e.newRequest(t, method, strings.ReplaceAll(path, "{id}", "x"), "", nil)
					hr, err := e.srv.Client().Do(req)
					if err != nil {
						t.Fatal(err)
					}
					body := apitest.ReadBody(t, hr)
					if hr.StatusCode == http.StatusMethodNotAllowed || bytes.Contains(body, []byte("no such endpoint")) {
						t.Errorf("%s %s is in the document but not served: %d %s", method, path, hr.StatusCode, body)
					}
				}
			}
			if n < 38 {
				t.Fatalf("only %d operations in the document", n)
			}
		})
		t.Run("healthz answers 503 when the database is gone", func(t *testing.T) {
			e.svc.Close()
			if err := e.st.Close(); err != nil {
				t.Fatal(err)
			}
			r := e.send(t, e.newRequest(t, "GET", "/healthz", "", nil), false)
			checkErr(t, r, http.StatusServiceUnavailable, "database_unavailable", "")
		})
	})
}

// TestMetricsAccess: GET /metrics answers loopback clients only, unless a
// metrics token is configured; then it requires that token, from anyone.
func TestMetricsAccess(t *testing.T) {
	e := newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "m.db"))
	open := httpapi.New(httpapi.Config{App: e.svc, Registerer: prometheus.NewRegistry()})
	for addr, want := range map[string]int{"127.0.0.1:4000": http.StatusOK, "[::1]:4000": http.StatusOK, "192.0.2.1:4000": http.StatusForbidden, "10.0.0.8:80": http.StatusForbidden} {
		r := httptest.NewRequest("GET", "/metrics", nil)
		r.RemoteAddr = addr
		w := httptest.NewRecorder()
		open.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("GET /metrics from %s without a token configured: %d, want %d", addr, w.Code, want)
		}
		if want == http.StatusForbidden && !strings.Contains(w.Body.String(), `"metrics_loopback_only"`) {
			t.Errorf("GET /metrics from %s: body %s, want the metrics_loopback_only error", addr, w.Body.String())
		}
	}

	guarded := newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "g.db"), func(c *httpapi.Config) { c.MetricsToken = "scrape-secret" })
	guarded.wantErr(t, http.StatusUnauthorized, "bad_metrics_token", "", "GET", "/metrics", "", nil)
	guarded.wantErr(t, http.StatusUnauthorized, "bad_metrics_token", "", "GET", "/metrics", "wrong", nil)
	if r := guarded.want(t, http.StatusOK, "GET", "/metrics", "scrape-secret", nil); !strings.Contains(string(r.Body), "switchboard_http_requests_total") {
		t.Errorf("GET /metrics with the token: no metrics in %.200s", r.Body)
	}
}
