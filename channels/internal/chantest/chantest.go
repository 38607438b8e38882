// Package chantest runs the real stack for the channel packages' tests: a
// real store (SQLite or PostgreSQL), a real app.Service with a clock the
// test moves, and the real HTTP API with the entry points mounted, plus a
// local server standing in for Meta's Graph API.
package chantest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/httpapi"
	"github.com/switchboard-dev/switchboard/internal/pgtest"
	"github.com/switchboard-dev/switchboard/sqlstore"
)

// ForEachDB runs fn on a fresh SQLite and a fresh PostgreSQL database.
func ForEachDB(t *testing.T, fn func(t *testing.T, dsn string)) { pgtest.ForEachDB(t, fn) }

// Clock is a settable clock.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Logs collects the server's log lines.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Env is one running stack.
type Env struct {
	T     testing.TB
	Store *sqlstore.Store
	App   *app.Service
	Srv   *httptest.Server
	Clock *Clock
	Logs  *Logs
	Log   *slog.Logger

	Admin     string // the admin's bearer token
	AdminID   string
	AccountID string
}

// Start0 is where every Env's clock starts.
var Start0 = time.Date(2025, 11, 22, 8, 0, 0, 0, time.UTC) // just before the sample payloads' receipts

// New starts the stack on dsn. register runs before the service starts
// (channel packages register their hooks there) and returns what mounts
// their routes. The setup admin is created.
func New(t testing.TB, dsn string, register func(svc *app.Service, log *slog.Logger) func(*http.ServeMux)) *Env {
	t.Helper()
	ctx := context.Background()
	logs := &Logs{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := sqlstore.Open(ctx, dsn, log)
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	clock := &Clock{now: Start0}
	svc := app.New(app.Config{Store: st, Logger: log, Now: clock.Now, Seed: 7,
		PasswordParams: &app.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1},
		JobPoll:        20 * time.Millisecond, JobBackoff: 50 * time.Millisecond})
	mount := register(svc, log)
	svc.Start(ctx)
	t.Cleanup(svc.Close)
	srv := httptest.NewServer(httpapi.New(httpapi.Config{App: svc, Logger: log, Extra: mount}))
	t.Cleanup(srv.Close)
	e := &Env{T: t, Store: st, App: svc, Srv: srv, Clock: clock, Logs: logs, Log: log}
	var setup struct {
		Account struct{ ID string }
		User    struct{ ID string }
		Token   string
	}
	e.Want(http.StatusCreated, "POST", "/api/v1/setup", "", map[string]string{
		"account_name": "Acme", "time_zone": "UTC", "admin_email": "admin@acme.test", "admin_name": "Ada Admin", "password": "correct horse battery",
	}, &setup)
	e.Admin, e.AdminID, e.AccountID = setup.Token, setup.User.ID, setup.Account.ID
	return e
}

// Response is a response read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Error decodes the error shape.
func (r *Response) Error() (code, field string) {
	var b struct {
		Error struct{ Code, Field string }
	}
	_ = json.Unmarshal(r.Body, &b)
	return b.Error.Code, b.Error.Field
}

// Request sends a request to the stack. body: nil, string or []byte (as
// is) or anything else (JSON). header pairs are added.
func (e *Env) Request(method, path, token string, body any, header ...string) *Response {
	e.T.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.T.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.Srv.URL+path, rd)
	if err != nil {
		e.T.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		e.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// Want is Request expecting status, decoding the body into out (if set).
func (e *Env) Want(status int, method, path, token string, body, out any, header ...string) *Response {
	e.T.Helper()
	r := e.Request(method, path, token, body, header...)
	if r.Status != status {
		e.T.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.Status, status, r.Body)
	}
	if out != nil {
		if err := json.Unmarshal(r.Body, out); err != nil {
			e.T.Fatalf("%s %s: decoding %s: %v", method, path, r.Body, err)
		}
	}
	return r
}

// Agent creates a seated, available agent and returns its id.
func (e *Env) Agent(name string) string {
	e.T.Helper()
	var u struct{ ID string }
	e.Want(http.StatusCreated, "POST", "/api/v1/users", e.Admin, map[string]any{
		"email": strings.ToLower(name) + "@acme.test", "name": name, "role": "agent", "paid_seat": true, "password": "correct horse battery",
	}, &u)
	return u.ID
}

// Channel connects a channel in a new inbox routed to userIDs (specific
// rule; none: unassigned) and returns its id.
func (e *Env) Channel(kind sb.ChannelKind, config string, userIDs ...string) string {
	e.T.Helper()
	routing := map[string]any{"enabled": false, "mode": "unassigned"}
	if len(userIDs) > 0 {
		routing = map[string]any{"enabled": true, "mode": "specific", "user_ids": userIDs}
	}
	var ch struct{ ID string }
	e.Want(http.StatusCreated, "POST", "/api/v1/channels", e.Admin, map[string]any{
		"kind": kind, "name": string(kind) + " channel", "config": json.RawMessage(config), "routing": routing,
		"new_inbox": map[string]any{"name": string(kind) + " inbox " + fmt.Sprint(time.Now().UnixNano()), "team_ids": []string{}},
	}, &ch)
	return ch.ID
}

// Conversations lists the account's conversations (open and closed).
func (e *Env) Conversations() []*sb.Conversation {
	e.T.Helper()
	var page struct{ Items []*sb.Conversation }
	e.Want(http.StatusOK, "GET", "/api/v1/conversations?view=open&limit=200", e.Admin, nil, &page)
	var closed struct{ Items []*sb.Conversation }
	e.Want(http.StatusOK, "GET", "/api/v1/conversations?view=closed&limit=200", e.Admin, nil, &closed)
	return append(page.Items, closed.Items...)
}

// Messages lists a conversation's thread.
func (e *Env) Messages(convID string) []*sb.Message {
	e.T.Helper()
	var page struct{ Items []*sb.Message }
	e.Want(http.StatusOK, "GET", "/api/v1/conversations/"+convID+"/messages", e.Admin, nil, &page)
	return page.Items
}

// Contact returns a contact.
func (e *Env) Contact(id string) *sb.Contact {
	e.T.Helper()
	var c sb.Contact
	e.Want(http.StatusOK, "GET", "/api/v1/contacts/"+id, e.Admin, nil, &c)
	return &c
}

// Strategy returns the routing strategy of a conversation's first decision.
func (e *Env) Strategy(convID string) string {
	e.T.Helper()
	var page struct{ Items []*sb.Decision }
	e.Want(http.StatusOK, "GET", "/api/v1/conversations/"+convID+"/routing", e.Admin, nil, &page)
	if len(page.Items) == 0 {
		e.T.Fatalf("conversation %s has no routing record", convID)
	}
	return page.Items[0].Strategy
}

// Eventually polls cond until it holds or 10 s pass.
func (e *Env) Eventually(what string, cond func() bool) {
	e.T.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.T.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
