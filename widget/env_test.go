package widget_test

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

	"github.com/coder/websocket"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/httpapi"
	"github.com/switchboard-dev/switchboard/internal/pgtest"
	"github.com/switchboard-dev/switchboard/sqlstore"
	"github.com/switchboard-dev/switchboard/widget"
)

// forEachDB runs fn on a fresh SQLite and a fresh PostgreSQL database.
func forEachDB(t *testing.T, fn func(t *testing.T, dsn string)) { pgtest.ForEachDB(t, fn) }

// env is the whole stack in-process: store, service, API and widget.
type env struct {
	svc     *app.Service
	srv     *httptest.Server
	admin   app.Actor
	account string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// newEnv starts the stack on dsn. opts are func(*widget.Options),
// func(*app.Config), func(*app.Service) (run before Start, e.g. to
// register a job handler) or func(*http.Server).
func newEnv(t *testing.T, dsn string, opts ...any) *env {
	t.Helper()
	ctx := context.Background()
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st, err := sqlstore.Open(ctx, dsn, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := app.Config{Store: st, Logger: log, PasswordParams: &app.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}, JobPoll: 20 * time.Millisecond}
	for _, f := range opts {
		if f, ok := f.(func(*app.Config)); ok {
			f(&cfg)
		}
	}
	svc := app.New(cfg)
	o := widget.Options{App: svc, Logger: log, RefreshDebounce: 20 * time.Millisecond}
	for _, f := range opts {
		switch f := f.(type) {
		case func(*widget.Options):
			f(&o)
		case func(*app.Service):
			f(svc)
		}
	}
	w := widget.New(o)
	svc.Start(ctx)
	t.Cleanup(svc.Close)
	srv := httptest.NewUnstartedServer(httpapi.New(httpapi.Config{App: svc, Logger: log, Extra: w.Mount}))
	for _, f := range opts {
		if f, ok := f.(func(*http.Server)); ok {
			f(srv.Config)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	res, err := svc.Setup(ctx, app.SetupInput{AccountName: "Acme", TimeZone: "Europe/Amsterdam", AdminEmail: "admin@acme.test", AdminName: "Admin", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, srv: srv, account: res.Account.ID, admin: app.Actor{AccountID: res.Account.ID, UserID: res.User.ID, Role: sb.RoleAdmin}}
}

// agent creates a seated agent; opts change the input.
func (e *env) agent(t *testing.T, name string, opts ...func(*app.UserInput)) app.Actor {
	t.Helper()
	in := app.UserInput{Email: strings.ToLower(name) + "@acme.test", Name: name, Role: sb.RoleAgent, PaidSeat: true, Password: "correct horse battery"}
	for _, o := range opts {
		o(&in)
	}
	u, err := e.svc.CreateUser(context.Background(), e.admin, in)
	if err != nil {
		t.Fatal(err)
	}
	return app.Actor{AccountID: e.account, UserID: u.ID, Role: sb.RoleAgent}
}

func capacity(n int) func(*app.UserInput) { return func(in *app.UserInput) { in.ChatCapacity = n } }

// chat creates a chat channel (with a new inbox limited to teamIDs) and
// returns it.
func (e *env) chat(t *testing.T, config any, rule sb.RoutingRule, teamIDs ...string) *sb.Channel {
	t.Helper()
	raw, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.svc.CreateChannel(context.Background(), e.admin, "", app.ChannelInput{Kind: sb.KindChat, Name: "Website chat", Config: raw, Routing: &rule,
		NewInbox: &app.InboxInput{Name: "Website", TeamIDs: teamIDs}})
	if err != nil {
		t.Fatal(err)
	}
	return v.Channel
}

func leastBusy(users ...app.Actor) sb.RoutingRule {
	r := sb.RoutingRule{Enabled: true, Mode: sb.ModeSpecific}
	for _, u := range users {
		r.UserIDs = append(r.UserIDs, u.UserID)
	}
	return r
}

// open is a config that allows the test server's pages.
func open(extra map[string]any) map[string]any {
	c := map[string]any{"allowed_origins": []string{"https://shop.example"}}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

const shop = "https://shop.example"

// call sends a JSON request to the widget or API with an Origin.
func (e *env) call(t *testing.T, method, path, origin string, body any) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// post sends a visitor message over HTTP and decodes a 200.
func (e *env) post(t *testing.T, ch string, in widget.PostMessage) widget.PostResult {
	t.Helper()
	status, _, b := e.call(t, "POST", "/widget/v1/"+ch+"/messages", shop, in)
	if status != 200 {
		t.Fatalf("POST messages: %d %s", status, b)
	}
	var res widget.PostResult
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

func (e *env) state(t *testing.T, ch, token, after string) widget.StateResponse {
	t.Helper()
	status, _, b := e.call(t, "GET", "/widget/v1/"+ch+"/state?visitor_token="+token+"&after="+after, shop, nil)
	if status != 200 {
		t.Fatalf("GET state: %d %s", status, b)
	}
	var st widget.StateResponse
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// visitor is one widget WebSocket.
type visitor struct {
	t      *testing.T
	ws     *websocket.Conn
	frames chan widget.Frame
	token  string
}

var tokenSeq struct {
	sync.Mutex
	n int
}

// newToken returns a fresh visitor token.
func newToken() string {
	tokenSeq.Lock()
	defer tokenSeq.Unlock()
	tokenSeq.n++
	return fmt.Sprintf("visitor-token-%08d-%d", tokenSeq.n, time.Now().UnixNano())
}

// dial opens the widget's WebSocket as token (after the cursor).
func (e *env) dial(t *testing.T, ch, token, after string) *visitor {
	t.Helper()
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/widget/v1/" + ch + "/ws?visitor_token=" + token + "&after=" + after
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {shop}}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	v := &visitor{t: t, ws: ws, frames: make(chan widget.Frame, 256), token: token}
	go func() {
		defer close(v.frames)
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			var f widget.Frame
			if json.Unmarshal(b, &f) == nil {
				v.frames <- f
			}
		}
	}()
	t.Cleanup(func() { ws.Close(websocket.StatusNormalClosure, "") })
	return v
}

// next returns the next frame of type typ, skipping others (within 10 s).
func (v *visitor) next(typ string) widget.Frame {
	v.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-v.frames:
			if !ok {
				v.t.Fatalf("the socket closed while waiting for a %s frame", typ)
			}
			if f.Type == typ {
				return f
			}
		case <-deadline:
			v.t.Fatalf("no %s frame within 10s", typ)
		}
	}
}

// nextWhere returns the next frame of type typ for which ok holds.
func (v *visitor) nextWhere(typ string, ok func(widget.Frame) bool) widget.Frame {
	v.t.Helper()
	for {
		if f := v.next(typ); ok(f) {
			return f
		}
	}
}

func (v *visitor) send(f widget.Frame) {
	v.t.Helper()
	b, _ := json.Marshal(f)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := v.ws.Write(ctx, websocket.MessageText, b); err != nil {
		v.t.Fatal(err)
	}
}

// conversation reads a conversation as the admin.
func (e *env) conversation(t *testing.T, id string) *sb.Conversation {
	t.Helper()
	c, err := e.svc.GetConversation(context.Background(), e.admin, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) messages(t *testing.T, id string) []*sb.Message {
	t.Helper()
	ms, err := e.svc.Messages(context.Background(), e.admin, id)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func ptr[T any](v T) *T { return &v }
