package loadtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/apidoc"
	"github.com/switchboard-dev/switchboard/loadtest"
)

const (
	adminEmail    = "admin@load.test"
	adminPassword = "correct horse"
)

// fakeAPI implements just enough of Switchboard's API for Run: setup,
// tokens, users, status, teams, inboxes, channels, inbound with least-busy
// assignment to a channel's team, and the conversation list with paging.
// Every request it gets must match the OpenAPI document.
type fakeAPI struct {
	t      *testing.T
	router routers.Router

	// Knobs, set before the run.
	failEvery       int           // answer 500 to every n-th inbound request
	unfair          bool          // assign every conversation to the team's first member
	unassignedEvery int           // leave every n-th new conversation unassigned
	inboundDelay    time.Duration // time each inbound request takes
	pageSize        int           // most conversations per page

	mu       sync.Mutex
	seq      int
	admin    *fakeUser
	users    map[string]*fakeUser
	teams    map[string][]string // main member ids
	inboxes  map[string]bool
	channels map[string]fakeChannel
	convs    []*fakeConv // in creation order
	byExtID  map[string]*fakeConv
	contacts map[string]bool
	tokens   map[string]*fakeUser
	inbound  int
	logins   map[string]int // by email
}

type fakeUser struct {
	ID           string `json:"id"`
	password     string
	Email        string `json:"email"`
	Role         string `json:"role"`
	PaidSeat     bool   `json:"paid_seat"`
	ChatCapacity int    `json:"chat_capacity"`
	Status       string `json:"status"`
	open         int
}

type fakeChannel struct {
	inboxID string
	teamIDs []string
}

type fakeConv struct {
	ID         string `json:"id"`
	InboxID    string `json:"inbox_id"`
	ChannelID  string `json:"channel_id"`
	Status     string `json:"status"`
	AssigneeID string `json:"assignee_id,omitempty"`
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(apidoc.JSON())
	if err != nil {
		t.Fatal(err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeAPI{
		t: t, router: router, pageSize: 7,
		users: map[string]*fakeUser{}, teams: map[string][]string{}, inboxes: map[string]bool{},
		channels: map[string]fakeChannel{}, byExtID: map[string]*fakeConv{}, contacts: map[string]bool{},
		tokens: map[string]*fakeUser{}, logins: map[string]int{},
	}
}

// start serves f on 127.0.0.1 for the rest of the test.
func (f *fakeAPI) start() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/setup", f.setup)
	mux.HandleFunc("POST /api/v1/tokens", f.login)
	mux.HandleFunc("POST /api/v1/users", f.auth(f.createUser))
	mux.HandleFunc("PATCH /api/v1/users/{id}", f.auth(f.patchUser))
	mux.HandleFunc("PUT /api/v1/users/{id}/status", f.auth(f.setStatus))
	mux.HandleFunc("POST /api/v1/teams", f.auth(f.createTeam))
	mux.HandleFunc("POST /api/v1/inboxes", f.auth(f.createInbox))
	mux.HandleFunc("POST /api/v1/inboxes/{id}/channels", f.auth(f.createChannel))
	mux.HandleFunc("POST /api/v1/channels/{id}/inbound", f.auth(f.postInbound))
	mux.HandleFunc("GET /api/v1/conversations", f.auth(f.listConversations))
	srv := httptest.NewServer(f.validate(mux))
	f.t.Cleanup(srv.Close)
	return srv
}

// validate checks each request against the OpenAPI document.
func (f *fakeAPI) validate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, params, err := f.router.FindRoute(r)
		if err == nil {
			err = openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
				Request: r, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, SkipSettingDefaults: true},
			})
		}
		if err != nil {
			f.t.Errorf("%s %s does not match the OpenAPI document: %v", r.Method, r.URL, err)
		}
		next.ServeHTTP(w, r)
	})
}

// auth lets through requests with a token, and admins only except for
// setting one's own status.
func (f *fakeAPI) auth(h func(w http.ResponseWriter, r *http.Request, me *fakeUser)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		me := f.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		switch {
		case me == nil:
			writeError(w, 401, "unauthenticated", "Log in first.")
		case me.Role != "admin" && !strings.HasSuffix(r.URL.Path, "/"+me.ID+"/status"):
			writeError(w, 403, "forbidden", "Admins only.")
		default:
			h(w, r, me)
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func (f *fakeAPI) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	d := json.NewDecoder(r.Body)
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		writeError(w, 400, "invalid_json", err.Error())
		return false
	}
	return true
}

func (f *fakeAPI) newID(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s%d", prefix, f.seq)
}

func (f *fakeAPI) setup(w http.ResponseWriter, r *http.Request) {
	var in struct{ AccountName, TimeZone, AdminEmail, AdminName, Password string }
	json.NewDecoder(r.Body).Decode(&in)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.admin != nil {
		writeError(w, 409, "already_set_up", "An account exists.")
		return
	}
	if in.Password != adminPassword {
		f.t.Errorf("setup with password %q", in.Password)
	}
	f.admin = &fakeUser{ID: f.newID("u"), Email: adminEmail, password: in.Password, Role: "admin", Status: "available"}
	f.users[f.admin.ID] = f.admin
	f.tokens["tok-"+f.admin.ID] = f.admin
	writeJSON(w, 201, map[string]any{"account": map[string]string{"id": "a1"}, "user": f.admin, "token": "tok-" + f.admin.ID})
}

func (f *fakeAPI) login(w http.ResponseWriter, r *http.Request) {
	var in struct{ Email, Password string }
	json.NewDecoder(r.Body).Decode(&in)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logins[in.Email]++
	for _, u := range f.users {
		if u.Email == in.Email && u.password == in.Password {
			f.tokens["tok-"+u.ID] = u
			writeJSON(w, 201, map[string]any{"token": "tok-" + u.ID, "user": u})
			return
		}
	}
	writeError(w, 401, "bad_credentials", "Wrong email or password.")
}

func (f *fakeAPI) createUser(w http.ResponseWriter, r *http.Request, _ *fakeUser) {
	var in struct {
		Email, Name, Role, Password string
		PaidSeat                    bool `json:"paid_seat"`
		ChatCapacity                int  `json:"chat_capacity"`
	}
	if !f.decode(w, r, &in) {
		return
	}
	for _, u := range f.users {
		if u.Email == in.Email {
			writeError(w, 409, "email_taken", "That email is taken.")
			return
		}
	}
	u := &fakeUser{ID: f.newID("u"), Email: in.Email, password: in.Password, Role: in.Role, PaidSeat: in.PaidSeat, ChatCapacity: in.ChatCapacity, Status: "away"}
	f.users[u.ID] = u
	writeJSON(w, 201, u)
}

func (f *fakeAPI) patchUser(w http.ResponseWriter, r *http.Request, _ *fakeUser) {
	var in struct {
		PaidSeat *bool `json:"paid_seat"`
	}
	u := f.users[r.PathValue("id")]
	if u == nil {
		writeError(w, 404, "not_found", "No such user.")
		return
	}
	if !f.decode(w, r, &in) {
		return
	}
	if in.PaidSeat != nil {
		u.PaidSeat = *in.PaidSeat
	}
	writeJSON(w, 200, u)
}

// setStatus: only users themselves come back from away (R-V1).
func (f *fakeAPI) setStatus(w http.ResponseWriter, r *http.Request, me *fakeUser) {
	var in struct{ Status string }
	u := f.users[r.PathValue("id")]
	if u == nil {
		writeError(w, 404, "not_found", "No such user.")
		return
	}
	if !f.decode(w, r, &in) {
		return
	}
	if in.Status == "available" && me != u {
		writeError(w, 422, "only_set_away", "You can set other users away, not available.")
		return
	}
	u.Status = in.Status
	writeJSON(w, 200, u)
}

func (f *fakeAPI) createTeam(w http.ResponseWriter, r *http.Request, _ *fakeUser) {
	var in struct {
		Name           string
		MainMemberIDs  []string `json:"main_member_ids"`
		ExtraMemberIDs []string `json:"extra_member_ids"`
	}
	if !f.decode(w, r, &in) {
		return
	}
	id := f.newID("t")
	f.teams[id] = in.MainMemberIDs
	writeJSON(w, 201, map[string]any{"id": id, "main_member_ids": in.MainMemberIDs})
}

func (f *fakeAPI) createInbox(w http.ResponseWriter, r *http.Request, _ *fakeUser) {
	var in struct {
		Name    string
		TeamIDs []string `json:"team_ids"`
	}
	if !f.decode(w, r, &in) {
		return
	}
	id := f.newID("i")
	f.inboxes[id] = true
	writeJSON(w, 201, map[string]any{"id": id})
}

func (f *fakeAPI) createChannel(w http.ResponseWriter, r *http.Request, _ *fakeUser) {
	var in struct {
		Kind, Name string
		Config     json.RawMessage
		Routing    struct {
			Enabled bool
			Mode    string
			TeamIDs []string `json:"team_ids"`
		}
	}
	if !f.inboxes[r.PathValue("id")] {
		writeError(w, 404, "not_found", "No such inbox.")
		return
	}
	if !f.decode(w, r, &in) {
		return
	}
	if !f.admin.PaidSeat {
		writeError(w, 422, "seat_required", "Only a user with a paid seat can switch routing on.")
		return
	}
	if !in.Routing.Enabled || in.Routing.Mode != "specific" || len(in.Routing.TeamIDs) != 1 {
		f.t.Errorf("channel routing = %+v", in.Routing)
	}
	id := f.newID("ch")
	f.channels[id] = fakeChannel{inboxID: r.PathValue("id"), teamIDs: in.Routing.TeamIDs}
	writeJSON(w, 201, map[string]any{"id": id, "kind": in.Kind})
}

func (f *fakeAPI) postInbound(w http.ResponseWriter, r *http.Request, _ *fakeUser) {
	var in struct {
		Contact    struct{ Email, Name string }
		Body       string
		ExternalID string `json:"external_id"`
	}
	ch, ok := f.channels[r.PathValue("id")]
	if !ok {
		writeError(w, 404, "not_found", "No such channel.")
		return
	}
	if !f.decode(w, r, &in) {
		return
	}
	time.Sleep(f.inboundDelay)
	f.inbound++
	if f.failEvery > 0 && f.inbound%f.failEvery == 0 {
		writeError(w, 500, "internal", "Something went wrong on our side.")
		return
	}
	if c := f.byExtID[in.ExternalID]; c != nil {
		writeJSON(w, 200, map[string]any{"conversation": c, "duplicate": true})
		return
	}
	if f.contacts[in.Contact.Email] {
		f.t.Errorf("contact %s wrote twice", in.Contact.Email)
	}
	f.contacts[in.Contact.Email] = true
	c := &fakeConv{ID: f.newID("c"), InboxID: ch.inboxID, ChannelID: r.PathValue("id"), Status: "open"}
	if f.unassignedEvery == 0 || len(f.convs)%f.unassignedEvery != f.unassignedEvery-1 {
		c.AssigneeID = f.leastBusy(ch.teamIDs)
	}
	f.convs = append(f.convs, c)
	f.byExtID[in.ExternalID] = c
	writeJSON(w, 201, map[string]any{"conversation": c, "duplicate": false})
}

// leastBusy picks the available, seated main member with the fewest open
// conversations, the earliest listed on a tie.
func (f *fakeAPI) leastBusy(teamIDs []string) string {
	var best *fakeUser
	for _, tid := range teamIDs {
		for _, uid := range f.teams[tid] {
			u := f.users[uid]
			if u == nil || u.Status != "available" || !u.PaidSeat {
				continue
			}
			if best == nil || (!f.unfair && u.open < best.open) {
				best = u
			}
		}
	}
	if best == nil {
		return ""
	}
	best.open++
	return best.ID
}

func (f *fakeAPI) listConversations(w http.ResponseWriter, r *http.Request, _ *fakeUser) {
	q := r.URL.Query()
	if q.Get("view") != "open" {
		writeError(w, 400, "invalid_view", "Only the open view here.")
		return
	}
	var match []*fakeConv
	for _, c := range slices.Backward(f.convs) { // newest first
		if c.Status == "open" && (q.Get("inbox_id") == "" || c.InboxID == q.Get("inbox_id")) {
			match = append(match, c)
		}
	}
	from := 0
	if cur := q.Get("cursor"); cur != "" {
		from, _ = strconv.Atoi(strings.TrimPrefix(cur, "off-"))
	}
	limit := f.pageSize
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n < limit {
		limit = n
	}
	to := min(from+limit, len(match))
	page := map[string]any{"items": match[from:to]}
	if to < len(match) {
		page["next_cursor"] = fmt.Sprintf("off-%d", to)
	}
	writeJSON(w, 200, page)
}

func run(t *testing.T, srv *httptest.Server, cfg loadtest.Config) (*loadtest.Report, string) {
	t.Helper()
	var out bytes.Buffer
	cfg.BaseURL, cfg.AdminEmail, cfg.AdminPassword, cfg.Out = srv.URL, adminEmail, adminPassword, &out
	rep, err := loadtest.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	return rep, out.String()
}

func TestRunEndToEnd(t *testing.T) {
	f := newFakeAPI(t)
	srv := f.start()
	rep, out := run(t, srv, loadtest.Config{Agents: 5, Clients: 4, Requests: 200})

	if rep.Requests != 200 || rep.Errors != 0 || rep.Duplicates != 0 {
		t.Errorf("requests %d, errors %d, duplicates %d; want 200, 0, 0", rep.Requests, rep.Errors, rep.Duplicates)
	}
	if rep.Conversations != 200 || rep.Unassigned != 0 {
		t.Errorf("conversations %d, unassigned %d; want 200, 0", rep.Conversations, rep.Unassigned)
	}
	if rep.AssignedSpread != 0 || rep.MinLoad != 40 || rep.MaxLoad != 40 {
		t.Errorf("loads min %d max %d spread %d; want 40 40 0", rep.MinLoad, rep.MaxLoad, rep.AssignedSpread)
	}
	if !(0 < rep.P50 && rep.P50 <= rep.P90 && rep.P90 <= rep.P99 && rep.P99 <= rep.Max) {
		t.Errorf("latencies p50 %s p90 %s p99 %s max %s are not ordered", rep.P50, rep.P90, rep.P99, rep.Max)
	}
	if rep.Elapsed <= 0 || rep.Throughput <= 0 {
		t.Errorf("elapsed %s, throughput %f", rep.Elapsed, rep.Throughput)
	}

	// What the fake saw: 5 seated available agents with no capacity limit in
	// one team, 200 distinct contacts, and a seat for the admin.
	f.mu.Lock()
	agents := 0
	for _, u := range f.users {
		if u.Role == "agent" {
			agents++
			if !u.PaidSeat || u.ChatCapacity != 0 || u.Status != "available" || !strings.Contains(u.Email, rep.RunID) {
				t.Errorf("agent %+v", *u)
			}
		}
	}
	if agents != 5 || len(f.teams) != 1 || len(f.contacts) != 200 || !f.admin.PaidSeat {
		t.Errorf("agents %d, teams %d, contacts %d, admin seated %v", agents, len(f.teams), len(f.contacts), f.admin.PaidSeat)
	}
	f.mu.Unlock()

	if !strings.Contains(out, "setup done") || !strings.Contains(out, "load done") {
		t.Errorf("progress output:\n%s", out)
	}
	var table bytes.Buffer
	rep.Print(&table)
	for _, want := range []string{"requests", "200", "p99", "spread 0"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("Print lacks %q:\n%s", want, table.String())
		}
	}
	b, _ := json.Marshal(rep)
	var back map[string]any
	json.Unmarshal(b, &back)
	if back["requests"] != 200.0 || back["assigned_spread"] != 0.0 || back["p50_ns"] == nil {
		t.Errorf("JSON: %s", b)
	}
}

func TestRunCountsErrors(t *testing.T) {
	f := newFakeAPI(t)
	f.failEvery = 10
	srv := f.start()
	rep, _ := run(t, srv, loadtest.Config{Agents: 5, Clients: 4, Requests: 200})

	if rep.Requests != 200 || rep.Errors != 20 || rep.ErrorCodes["internal"] != 20 || len(rep.ErrorCodes) != 1 {
		t.Errorf("requests %d, errors %d %v; want 200, 20 map[internal:20]", rep.Requests, rep.Errors, rep.ErrorCodes)
	}
	if rep.Conversations != 180 || rep.AssignedSpread != 0 {
		t.Errorf("conversations %d, spread %d; want 180, 0", rep.Conversations, rep.AssignedSpread)
	}
	var table bytes.Buffer
	rep.Print(&table)
	if !strings.Contains(table.String(), "20 (internal 20)") {
		t.Errorf("Print:\n%s", table.String())
	}
}

// TestRunSpread: unfair routing and unassigned conversations show in the
// report.
func TestRunSpread(t *testing.T) {
	f := newFakeAPI(t)
	f.unfair = true
	f.unassignedEvery = 4
	srv := f.start()
	rep, _ := run(t, srv, loadtest.Config{Agents: 5, Clients: 4, Requests: 200})

	if rep.Conversations != 200 || rep.Unassigned != 50 {
		t.Errorf("conversations %d, unassigned %d; want 200, 50", rep.Conversations, rep.Unassigned)
	}
	if rep.MinLoad != 0 || rep.MaxLoad != 150 || rep.AssignedSpread != 150 {
		t.Errorf("loads min %d max %d spread %d; want 0 150 150", rep.MinLoad, rep.MaxLoad, rep.AssignedSpread)
	}
}

// TestRunLogsInOnceSetUp: a second run against the same server gets 409
// from setup, logs in instead, and counts only its own conversations.
func TestRunLogsInOnceSetUp(t *testing.T) {
	f := newFakeAPI(t)
	srv := f.start()
	first, _ := run(t, srv, loadtest.Config{Agents: 3, Clients: 2, Requests: 30})
	second, _ := run(t, srv, loadtest.Config{Agents: 3, Clients: 2, Requests: 30})

	if f.logins[adminEmail] != 1 {
		t.Errorf("admin logins = %d, want 1", f.logins[adminEmail])
	}
	if first.RunID == second.RunID {
		t.Errorf("both runs are %s", first.RunID)
	}
	if second.Conversations != 30 || second.AssignedSpread != 0 {
		t.Errorf("second run: conversations %d, spread %d; want 30, 0", second.Conversations, second.AssignedSpread)
	}
}

func TestRunStopsAtDuration(t *testing.T) {
	f := newFakeAPI(t)
	f.inboundDelay = 2 * time.Millisecond
	f.pageSize = 100
	srv := f.start()
	start := time.Now()
	rep, _ := run(t, srv, loadtest.Config{Agents: 3, Clients: 4, Requests: 1_000_000, Duration: 200 * time.Millisecond})

	if time.Since(start) > 10*time.Second {
		t.Errorf("Run took %s", time.Since(start))
	}
	if rep.Requests == 0 || rep.Requests >= 1_000_000 || rep.Errors != 0 {
		t.Errorf("requests %d, errors %d", rep.Requests, rep.Errors)
	}
	// Requests cut short at the deadline may still have been stored.
	if rep.Conversations < rep.Requests || rep.Conversations > rep.Requests+4 || rep.AssignedSpread > 1 {
		t.Errorf("conversations %d for %d requests, spread %d", rep.Conversations, rep.Requests, rep.AssignedSpread)
	}
}

func TestRunStopsWhenContextEnds(t *testing.T) {
	f := newFakeAPI(t)
	f.inboundDelay = time.Millisecond
	srv := f.start()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	rep, err := loadtest.Run(ctx, loadtest.Config{
		BaseURL: srv.URL, AdminEmail: adminEmail, AdminPassword: adminPassword,
		Agents: 2, Clients: 2, Requests: 1_000_000,
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's", err)
	}
	if rep == nil || rep.Requests == 0 || rep.Requests >= 1_000_000 {
		t.Errorf("report %+v", rep)
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	tests := []loadtest.Config{
		{BaseURL: "http://127.0.0.1:1", AdminPassword: "x"},
		{BaseURL: "ftp://127.0.0.1:1", AdminEmail: "a@b.test", AdminPassword: "x"},
		{BaseURL: "127.0.0.1:8080", AdminEmail: "a@b.test", AdminPassword: "x"},
		{BaseURL: "http://127.0.0.1:1", AdminEmail: "a@b.test", AdminPassword: "x", Kind: "fax"},
		{BaseURL: "http://127.0.0.1:1", AdminEmail: "a@b.test", AdminPassword: "x", Clients: -1},
	}
	for _, cfg := range tests {
		if _, err := loadtest.Run(context.Background(), cfg); err == nil {
			t.Errorf("Run(%+v) worked", cfg)
		}
	}
}

// TestRunReportsSetupErrors: a refused set-up step stops the run with the
// API's error.
func TestRunReportsSetupErrors(t *testing.T) {
	f := newFakeAPI(t)
	srv := f.start()
	_, err := loadtest.Run(context.Background(), loadtest.Config{
		BaseURL: srv.URL, AdminEmail: adminEmail, AdminPassword: adminPassword,
		Agents: 2, Requests: 10, Kind: sb.KindChat,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = loadtest.Run(context.Background(), loadtest.Config{
		BaseURL: srv.URL, AdminEmail: adminEmail, AdminPassword: "wrong password",
		Agents: 2, Requests: 10,
	})
	if err == nil || !strings.Contains(err.Error(), "bad_credentials") {
		t.Errorf("err = %v, want the login's bad_credentials", err)
	}
}
