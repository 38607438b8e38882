package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/httpapi"
	"github.com/switchboard-dev/switchboard/internal/pgtest"
	"github.com/switchboard-dev/switchboard/sqlstore"
	"github.com/switchboard-dev/switchboard/web"
)

// env is the API and the pages over a real database, as serve mounts them.
type env struct {
	srv   *httptest.Server
	svc   *app.Service
	admin app.Actor
}

func forEachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "web.db"))) })
	t.Run("postgres", func(t *testing.T) { fn(t, newEnv(t, pgtest.DSN(t))) })
}

func newEnv(t *testing.T, dsn string) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	svc := app.New(app.Config{Store: st, PasswordParams: &app.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}})
	svc.Start(ctx)
	t.Cleanup(func() { svc.Close(); st.Close() })
	res, err := svc.Setup(ctx, app.SetupInput{AccountName: "Acme", AdminEmail: "admin@acme.test", AdminName: "Ada Admin", Password: "admin password"})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := svc.Authenticate(ctx, res.Token)
	if err != nil {
		t.Fatal(err)
	}
	pages := web.New(web.Config{App: svc, LoginLimit: 5})
	srv := httptest.NewServer(httpapi.New(httpapi.Config{App: svc, Extra: pages.Mount}))
	t.Cleanup(srv.Close)
	return &env{srv: srv, svc: svc, admin: admin}
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// login posts the sign-in form and returns the response.
func (e *env) login(t *testing.T, email, password string, header ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/login", strings.NewReader(url.Values{"email": {email}, "password": {password}, "next": {"/app?view=mine"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// get fetches path with the session cookie.
func (e *env) get(t *testing.T, path, session string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	if session != "" {
		req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: session})
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func sessionOf(t *testing.T, r *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range r.Cookies() {
		if c.Name == httpapi.SessionCookie {
			return c
		}
	}
	t.Fatalf("no session cookie in %v", r.Header["Set-Cookie"])
	return nil
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		t.Run("the right password sets an HttpOnly SameSite=Lax cookie and goes back", func(t *testing.T) {
			r := e.login(t, "admin@acme.test", "admin password")
			body(t, r)
			if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/app?view=mine" {
				t.Fatalf("login: %d to %q", r.StatusCode, r.Header.Get("Location"))
			}
			c := sessionOf(t, r)
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure {
				t.Errorf("cookie = %+v, want HttpOnly, SameSite=Lax, not Secure over plain HTTP", c)
			}
			if r := e.get(t, "/app", c.Value); r.StatusCode != http.StatusOK || !strings.Contains(body(t, r), "Unassigned") {
				t.Errorf("the inbox with the cookie: %d", r.StatusCode)
			}
		})
		t.Run("a wrong password says so", func(t *testing.T) {
			r := e.login(t, "admin@acme.test", "wrong")
			if b := body(t, r); r.StatusCode != http.StatusUnauthorized || !strings.Contains(b, "do not match") {
				t.Fatalf("wrong password: %d %s", r.StatusCode, b)
			}
		})
		t.Run("a cross-site sign-in is refused", func(t *testing.T) {
			r := e.login(t, "admin@acme.test", "admin password", "Sec-Fetch-Site", "cross-site")
			body(t, r)
			if r.StatusCode != http.StatusForbidden {
				t.Fatalf("cross-site POST /login: %d, want 403", r.StatusCode)
			}
		})
		t.Run("next cannot leave the site", func(t *testing.T) {
			req, _ := http.NewRequest("POST", e.srv.URL+"/login", strings.NewReader("email=admin%40acme.test&password=admin+password&next=%2F%2Fevil.example%2Fapp"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body(t, r)
			if r.Header.Get("Location") != "/app" {
				t.Fatalf("redirect to %q, want /app", r.Header.Get("Location"))
			}
		})
		t.Run("without a session the inbox sends to sign-in", func(t *testing.T) {
			r := e.get(t, "/app?view=closed", "")
			body(t, r)
			if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login?next=") {
				t.Fatalf("/app signed out: %d %q", r.StatusCode, r.Header.Get("Location"))
			}
		})
	})
}

// Sign-in attempts are limited per email (and per IP address) with a
// clear message.
func TestSignInRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "web.db"))
	for i := range 5 {
		if r := e.login(t, "admin@acme.test", "wrong"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, r.StatusCode)
		}
	}
	r := e.login(t, "admin@acme.test", "admin password")
	b := body(t, r)
	if r.StatusCode != http.StatusTooManyRequests || !strings.Contains(b, "Too many sign-in attempts") || r.Header.Get("Retry-After") == "" {
		t.Fatalf("6th attempt: %d %q %s", r.StatusCode, r.Header.Get("Retry-After"), b)
	}
}

func TestSignOutRevokes(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		c := sessionOf(t, e.login(t, "admin@acme.test", "admin password"))
		req, _ := http.NewRequest("POST", e.srv.URL+"/logout", nil)
		req.AddCookie(c)
		r, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body(t, r)
		if r.StatusCode != http.StatusSeeOther || sessionOf(t, r).MaxAge >= 0 {
			t.Fatalf("logout: %d, cookie %v", r.StatusCode, r.Header["Set-Cookie"])
		}
		if _, err := e.svc.Authenticate(context.Background(), c.Value); !sb.IsKind(err, sb.Unauthenticated) {
			t.Fatalf("the token still works after sign-out: %v", err)
		}
	})
}

// Settings are for admins; agents get a page that says so. The inbox's
// parts are JSON fragments.
func TestPages(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if _, err := e.svc.CreateUser(ctx, e.admin, app.UserInput{Email: "ann@acme.test", Name: "Ann", PaidSeat: true, Password: "ann password"}); err != nil {
			t.Fatal(err)
		}
		ch, err := e.svc.CreateChannel(ctx, e.admin, "", app.ChannelInput{Kind: sb.KindEmail, Name: "Mail", NewInbox: &app.InboxInput{Name: "Support"}})
		if err != nil {
			t.Fatal(err)
		}
		in, err := e.svc.Inbound(ctx, e.admin, ch.ID, app.InboundInput{Contact: app.InboundContact{Email: "c@x.test", Name: "Carla <script>"}, Body: "Hi <b>there</b>"})
		if err != nil {
			t.Fatal(err)
		}
		admin := sessionOf(t, e.login(t, "admin@acme.test", "admin password")).Value
		ann := sessionOf(t, e.login(t, "ann@acme.test", "ann password")).Value
		for _, p := range []string{"/app/settings/users", "/app/settings/teams", "/app/settings/inboxes", "/app/settings/channels", "/app/settings/channels/" + ch.ID} {
			if r := e.get(t, p, admin); r.StatusCode != http.StatusOK {
				t.Errorf("admin %s: %d %s", p, r.StatusCode, body(t, r))
			} else {
				body(t, r)
			}
			r := e.get(t, p, ann)
			if b := body(t, r); r.StatusCode != http.StatusForbidden || !strings.Contains(b, "only admins") {
				t.Errorf("agent %s: %d, want 403 with a message", p, r.StatusCode)
			}
		}
		r := e.get(t, "/app?view=unassigned&c="+in.Conversation.ID, ann)
		b := body(t, r)
		if r.StatusCode != http.StatusOK || !strings.Contains(b, "Hi &lt;b&gt;there&lt;/b&gt;") || strings.Contains(b, "Carla <script>") {
			t.Errorf("the thread must show text escaped: %d", r.StatusCode)
		}
		r = e.get(t, "/app/parts?view=unassigned&c="+in.Conversation.ID, ann)
		var parts map[string]string
		if err := json.NewDecoder(r.Body).Decode(&parts); err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		for _, k := range []string{"views", "list", "conv_head", "thread", "why"} {
			if parts[k] == "" {
				t.Errorf("part %q is empty", k)
			}
		}
		if !strings.Contains(parts["list"], in.Conversation.ID) || !strings.Contains(parts["conv_head"], "Take it") {
			t.Errorf("R-M2: the unassigned conversation is listed and offers Take it: %s", parts["conv_head"])
		}
		if r := e.get(t, "/app/parts?view=open", ""); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("parts without a session: %d, want 401", r.StatusCode)
		}
		if r := e.get(t, "/app?c=nope", ann); r.StatusCode != http.StatusNotFound {
			t.Errorf("an unknown conversation: %d, want 404", r.StatusCode)
		}
		if r := e.get(t, "/static/app.js", ""); r.StatusCode != http.StatusOK || !strings.Contains(r.Header.Get("Content-Type"), "javascript") {
			t.Errorf("static script: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
		}
	})
}

// Rule R-X1: the avatar menu shows the effective status and why; Rule R-V2:
// using the inbox records the user as active.
func TestStatusShownR_X1(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		other := (time.Now().UTC().Weekday() + 3) % 7 // a day that is not today in any time zone
		u, err := e.svc.CreateUser(ctx, e.admin, app.UserInput{Email: "ann@acme.test", Name: "Ann", PaidSeat: true, Password: "ann password",
			WorkingHours: &sb.WorkingHours{TimeZone: "UTC", Ranges: []sb.HoursRange{{Day: other, Start: 0, End: 1440}}}})
		if err != nil {
			t.Fatal(err)
		}
		ann := sessionOf(t, e.login(t, "ann@acme.test", "ann password")).Value
		r := e.get(t, "/app", ann)
		b := body(t, r)
		if !strings.Contains(b, "Away — outside working hours") || !strings.Contains(b, `id="available-toggle" name="available" checked`) {
			t.Errorf("R-X1: the menu should say away outside working hours while the toggle stays on: %d", r.StatusCode)
		}
		got, err := e.svc.GetUser(ctx, e.admin, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.LastActiveAt.IsZero() {
			t.Error("R-V2: opening the inbox did not record the user as active")
		}
	})
}

// The thread lists a message's attachments (an email's, from its meta) as
// downloads through the API, leaving out inline images, and says when a
// reply could not be delivered.
func TestThreadShowsAttachmentsAndDelivery(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ch, err := e.svc.CreateChannel(ctx, e.admin, "", app.ChannelInput{Kind: sb.KindEmail, Name: "Mail", Config: json.RawMessage(`{"address":"help@acme.test"}`), NewInbox: &app.InboxInput{Name: "Support"}})
		if err != nil {
			t.Fatal(err)
		}
		meta := json.RawMessage(`{"attachments":[{"filename":"invoice.pdf","size":14200,"sha256":"ab12"},{"filename":"logo.png","size":900,"sha256":"cd34","inline":true}]}`)
		in, err := e.svc.Inbound(ctx, e.admin, ch.ID, app.InboundInput{Contact: app.InboundContact{Email: "c@x.test"}, Body: "See attached", Meta: meta})
		if err != nil {
			t.Fatal(err)
		}
		reply, err := e.svc.Reply(ctx, e.admin, in.Conversation.ID, app.ReplyInput{Body: "Thanks"})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.MarkDeliveryFailed(ctx, e.admin.AccountID, reply.Message.ID, "550 mailbox unavailable"); err != nil {
			t.Fatal(err)
		}
		admin := sessionOf(t, e.login(t, "admin@acme.test", "admin password")).Value
		b := body(t, e.get(t, "/app?view=open&c="+in.Conversation.ID, admin))
		if want := `href="/api/v1/conversations/` + in.Conversation.ID + `/attachments/ab12"`; !strings.Contains(b, want) || !strings.Contains(b, "invoice.pdf") || !strings.Contains(b, "14 KB") {
			t.Errorf("the thread does not link invoice.pdf (14 KB) to %s", want)
		}
		if strings.Contains(b, "logo.png") {
			t.Error("an inline image is listed as an attachment")
		}
		if !strings.Contains(b, "Not delivered: 550 mailbox unavailable") {
			t.Error("the failed reply does not say it was not delivered, and why")
		}
	})
}
