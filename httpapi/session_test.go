package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/httpapi"
)

// The web inbox's session cookie authenticates API calls like a bearer
// token; a state-changing call with it from another site is refused (CSRF).
func TestSessionCookie(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.setup(t)
		withCookie := func(method, path, body string) *http.Request {
			req := e.newRequest(t, method, path, "", nil)
			if body != "" {
				req = e.newRequest(t, method, path, "", body)
			}
			req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: e.admin})
			return req
		}
		t.Run("a cookie reads like a token", func(t *testing.T) {
			r := e.send(t, withCookie("GET", "/api/v1/users/me", ""), true)
			if r.Status != http.StatusOK {
				t.Fatalf("GET with the session cookie: %d %s", r.Status, r.Body)
			}
		})
		body := `{"name":"Team via cookie","main_member_ids":[],"extra_member_ids":[]}`
		t.Run("a same-origin change with the cookie passes", func(t *testing.T) {
			req := withCookie("POST", "/api/v1/teams", body)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			if r := e.send(t, req, true); r.Status != http.StatusCreated {
				t.Fatalf("same-origin POST: %d %s", r.Status, r.Body)
			}
		})
		t.Run("a cross-site change with the cookie is refused", func(t *testing.T) {
			req := withCookie("POST", "/api/v1/teams", body)
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			r := e.send(t, req, false)
			if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "cross_origin") {
				t.Fatalf("cross-site POST: %d %s, want 403 cross_origin", r.Status, r.Body)
			}
			req = withCookie("POST", "/api/v1/teams", body)
			req.Header.Set("Origin", "https://evil.example")
			if r := e.send(t, req, false); r.Status != http.StatusForbidden {
				t.Fatalf("POST with a foreign Origin: %d %s, want 403", r.Status, r.Body)
			}
		})
		t.Run("a bad cookie answers 401", func(t *testing.T) {
			req := e.newRequest(t, "GET", "/api/v1/users/me", "", nil)
			req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: "sb_nope"})
			if r := e.send(t, req, true); r.Status != http.StatusUnauthorized {
				t.Fatalf("bad cookie: %d %s", r.Status, r.Body)
			}
		})
	})
}
