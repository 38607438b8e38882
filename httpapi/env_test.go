package httpapi_test

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

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/prometheus/client_golang/prometheus"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/apidoc"
	"github.com/switchboard-dev/switchboard/apidoc/apitest"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/httpapi"
	"github.com/switchboard-dev/switchboard/internal/pgtest"
	"github.com/switchboard-dev/switchboard/sqlstore"
)

// forEachDB runs fn on a fresh SQLite and a fresh PostgreSQL database.
func forEachDB(t *testing.T, fn func(t *testing.T, dsn string)) { pgtest.ForEachDB(t, fn) }

// env is one running API over a real store and app.Service.
type env struct {
	srv *httptest.Server
	svc *app.Service
	st  *sqlstore.Store
	v   *apitest.Validator
	reg *prometheus.Registry

	admin   string // the setup admin's token, once setup ran
	adminID string
}

// newEnv starts the whole stack on dsn. opts may change the API's config.
func newEnv(t *testing.T, dsn string, opts ...func(*httpapi.Config)) *env {
	t.Helper()
	return newEnvWrapped(t, dsn, nil, opts...)
}

// newEnvWrapped is newEnv whose service runs over wrap(store), for tests
// that make the store misbehave.
func newEnvWrapped(t *testing.T, dsn string, wrap func(sb.Store) sb.Store, opts ...func(*httpapi.Config)) *env {
	t.Helper()
	ctx := context.Background()
	logs := &syncBuffer{}
	t.Cleanup(func() { // registered first, so it runs last
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st, err := sqlstore.Open(ctx, dsn, logger)
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	var store sb.Store = st
	if wrap != nil {
		store = wrap(st)
	}
	svc := app.New(app.Config{Store: store, Logger: logger, PasswordParams: &app.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}})
	svc.Start(ctx)
	t.Cleanup(svc.Close)
	reg := prometheus.NewRegistry()
	cfg := httpapi.Config{App: svc, Logger: logger, Registerer: reg}
	for _, o := range opts {
		o(&cfg)
	}
	srv := httptest.NewServer(httpapi.New(cfg))
	t.Cleanup(srv.Close)
	return &env{srv: srv, svc: svc, st: st, v: apitest.NewValidator(t), reg: reg}
}

// resp is a response read whole.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// errBody is the error shape.
type errBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// do sends a request and checks the response against the OpenAPI document.
// body may be nil (no body), a string or []byte (sent as is) or anything
// else (sent as JSON); bodies go with Content-Type application/json.
func (e *env) do(t *testing.T, method, path, token string, body any) *resp {
	t.Helper()
	return e.send(t, e.newRequest(t, method, path, token, body), true)
}

// want is do with an expected status.
func (e *env) want(t *testing.T, status int, method, path, token string, body any) *resp {
	t.Helper()
	r := e.do(t, method, path, token, body)
	if r.Status != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.Status, status, r.Body)
	}
	return r
}

// wantErr is do expecting the error shape with status, code and (if not
// empty) field.
func (e *env) wantErr(t *testing.T, status int, code, field, method, path, token string, body any) errBody {
	t.Helper()
	return checkErr(t, e.want(t, status, method, path, token, body), status, code, field)
}

func (e *env) newRequest(t *testing.T, method, path, token string, body any) *http.Request {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// send runs req. documented says the document describes the response;
// when it does not (a status or route the document leaves out), only the
// body's error shape is checked against the document's Error schema.
func (e *env) send(t *testing.T, req *http.Request, documented bool) *resp {
	t.Helper()
	hr, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	body := apitest.ReadBody(t, hr)
	if documented {
		e.v.Check(t, req, hr, body)
	} else {
		checkSchema(t, "Error", body)
	}
	return &resp{Status: hr.StatusCode, Header: hr.Header, Body: body}
}

// into decodes the body into v.
func (r *resp) into(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.Body, err)
	}
}

// checkErr checks an error response's status, code and field.
func checkErr(t *testing.T, r *resp, status int, code, field string) errBody {
	t.Helper()
	var eb errBody
	r.into(t, &eb)
	if r.Status != status || eb.Error.Code != code || eb.Error.Field != field || eb.Error.Message == "" {
		t.Fatalf("got %d %s, want %d code %q field %q", r.Status, r.Body, status, code, field)
	}
	return eb
}

// document is the OpenAPI document, loaded once, for checking bodies
// against one of its schemas.
var document = sync.OnceValues(func() (*openapi3.T, error) {
	l := openapi3.NewLoader()
	doc, err := l.LoadFromData(apidoc.JSON())
	if err != nil {
		return nil, err
	}
	return doc, doc.Validate(l.Context)
})

// checkSchema checks body against the document's schema of that name.
func checkSchema(t *testing.T, name string, body []byte) {
	t.Helper()
	doc, err := document()
	if err != nil {
		t.Fatal(err)
	}
	ref := doc.Components.Schemas[name]
	if ref == nil {
		t.Fatalf("no schema %s", name)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: not JSON: %v: %s", name, err, body)
	}
	if err := ref.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("body does not match schema %s: %v\n%s", name, err, body)
	}
}

// --- builders ---

const password = "correct horse battery"

// setup runs POST /api/v1/setup and keeps the admin's token.
func (e *env) setup(t *testing.T) {
	t.Helper()
	var res app.SetupResult
	e.want(t, http.StatusCreated, "POST", "/api/v1/setup", "", map[string]any{
		"account_name": "Acme", "time_zone": "Europe/Amsterdam", "admin_email": "admin@acme.test",
		"admin_name": "Ada Admin", "password": password,
	}).into(t, &res)
	e.admin, e.adminID = res.Token, res.User.ID
}

// user creates a user (an available agent with a paid seat unless fields
// say otherwise) and signs them in; it returns their id and token.
func (e *env) user(t *testing.T, name string, fields map[string]any) (id, token string) {
	t.Helper()
	in := map[string]any{"email": strings.ToLower(name) + "@acme.test", "name": name, "role": "agent", "paid_seat": true, "password": password}
	for k, v := range fields {
		in[k] = v
	}
	var u app.UserView
	e.want(t, http.StatusCreated, "POST", "/api/v1/users", e.admin, in).into(t, &u)
	return u.ID, e.login(t, in["email"].(string))
}

func (e *env) login(t *testing.T, email string) string {
	t.Helper()
	var res struct {
		Token string `json:"token"`
	}
	e.want(t, http.StatusCreated, "POST", "/api/v1/tokens", "", map[string]any{"email": email, "password": password}).into(t, &res)
	return res.Token
}

func (e *env) team(t *testing.T, name string, main, extra []string) string {
	t.Helper()
	var tm sb.Team
	e.want(t, http.StatusCreated, "POST", "/api/v1/teams", e.admin,
		map[string]any{"name": name, "main_member_ids": main, "extra_member_ids": extra}).into(t, &tm)
	return tm.ID
}

func (e *env) inbox(t *testing.T, name string, teamIDs ...string) string {
	t.Helper()
	if teamIDs == nil {
		teamIDs = []string{}
	}
	var in sb.Inbox
	e.want(t, http.StatusCreated, "POST", "/api/v1/inboxes", e.admin, map[string]any{"name": name, "team_ids": teamIDs}).into(t, &in)
	return in.ID
}

// channel connects a channel of kind to inboxID with routing (nil: off).
func (e *env) channel(t *testing.T, inboxID, kind string, routing map[string]any) string {
	t.Helper()
	body := map[string]any{"kind": kind, "name": kind + " channel"}
	if routing != nil {
		body["routing"] = routing
	}
	var c app.ChannelView
	e.want(t, http.StatusCreated, "POST", "/api/v1/inboxes/"+inboxID+"/channels", e.admin, body).into(t, &c)
	return c.ID
}

// inbound delivers a message from email on channelID and returns the result.
func (e *env) inbound(t *testing.T, channelID, email, externalID string) app.InboundResult {
	t.Helper()
	var res app.InboundResult
	e.want(t, http.StatusCreated, "POST", "/api/v1/channels/"+channelID+"/inbound", e.admin, map[string]any{
		"contact": map[string]any{"email": email, "name": "Carla Contact"}, "body": "Hello, I need help", "external_id": externalID,
	}).into(t, &res)
	return res
}

// conversation reads one conversation as token's user.
func (e *env) conversation(t *testing.T, token, id string) sb.Conversation {
	t.Helper()
	var c sb.Conversation
	e.want(t, http.StatusOK, "GET", "/api/v1/conversations/"+id, token, nil).into(t, &c)
	return c
}

// list reads every page of a conversation view (limit per page) as
// token's user and returns the ids in order.
func (e *env) list(t *testing.T, token, query string, limit int) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for range 100 {
		path := fmt.Sprintf("/api/v1/conversations?%s&limit=%d", query, limit)
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		var p app.Page[*sb.Conversation]
		e.want(t, http.StatusOK, "GET", path, token, nil).into(t, &p)
		if len(p.Items) > limit {
			t.Fatalf("page of %d items for limit %d", len(p.Items), limit)
		}
		for _, c := range p.Items {
			ids = append(ids, c.ID)
		}
		if p.NextCursor == "" {
			return ids
		}
		cursor = p.NextCursor
	}
	t.Fatal("paging did not end")
	return nil
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
