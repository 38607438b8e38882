package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/pgtest"
)

// database is one of the two databases every scenario runs on.
type database struct {
	name string
	dsn  func(t *testing.T) string // a fresh, empty database
}

var databases = []database{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "switchboard.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.DSN(t) }},
}

// scenario is one end-to-end test against the real binary.
type scenario struct {
	name         string
	postgresOnly bool // needs several processes on one database
	run          func(t *testing.T, dsn string)
}

// TestEndToEnd runs every scenario on SQLite and on PostgreSQL (which is
// skipped without a server, and fails under CI=true). Scenarios run in
// parallel; each has its own database and processes.
func TestEndToEnd(t *testing.T) {
	scenarios := []scenario{
		{"DemoAndReadmeCurlSteps", false, testDemo},
		{"R-A9_R-X7_200ConcurrentInboundAreBalanced", false, testBalanced},
		{"R-A10_CapacityHolds150Of200", false, testCapacity},
		{"R-X7_TwoProcessesOneDatabase", true, testTwoProcesses},
		{"GracefulShutdownKeepsAcknowledgedMessages", false, testGracefulShutdown},
		{"LoadToolReportsNoErrors", false, testLoad},
		{"Migrate", false, testMigrate},
	}
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			for _, sc := range scenarios {
				if sc.postgresOnly && db.name != "postgres" {
					continue
				}
				t.Run(sc.name, func(t *testing.T) {
					t.Parallel()
					sc.run(t, db.dsn(t))
				})
			}
		})
	}
}

// demoChat matches the chat channel id that serve --demo prints.
var demoChat = regexp.MustCompile(`(?m)^\s*CHAT=(\S+)\s*$`)

// waitStdout waits until the server's stdout matches re.
func waitStdout(t *testing.T, s *server, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(s.stdout.String()); m != nil {
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never printed %s; stdout:\n%s", s.name, re, s.stdout.String())
	return nil
}

// testDemo is `serve --demo` and the README's three curl steps: a token,
// an inbound chat message, and its routing record.
func testDemo(t *testing.T, dsn string) {
	s := startServer(t, "demo", dsn, "--demo")
	chat := waitStdout(t, s, demoChat)[1]
	out := s.stdout.String()
	for _, want := range []string{"admin@demo.test / demo", s.URL, "curl -s -X POST " + s.URL + "/api/v1/tokens"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve --demo output lacks %q:\n%s", want, out)
		}
	}

	// 1. a token
	var tok tokenOnly
	newClient(s.URL, "").must(t, "POST", "/api/v1/tokens", map[string]any{"email": "admin@demo.test", "password": "demo"}, &tok)
	c := newClient(s.URL, tok.Token)
	before := listConversations(t, c, "open")
	if len(before) < 8 {
		t.Errorf("the demo has %d open conversations, want at least 8", len(before))
	}

	// 2. an inbound chat message from a new contact
	var res inboundResult
	c.must(t, "POST", "/api/v1/channels/"+chat+"/inbound", map[string]any{
		"contact": map[string]any{"email": "newcomer@example.com", "name": "Newcomer"},
		"body":    "Hello, can someone help me?",
	}, &res)
	if res.Conversation.AssigneeID == "" {
		t.Fatalf("the demo chat channel left the conversation unassigned: %+v", res.Conversation)
	}

	// 3. its routing record (R-A12): the rule, the candidates, the reason
	var rec page[decision]
	c.must(t, "GET", "/api/v1/conversations/"+res.Conversation.ID+"/routing", nil, &rec)
	if len(rec.Items) == 0 {
		t.Fatal("the routing record is empty")
	}
	d := rec.Items[0]
	if d.Outcome != "assigned" || d.AssigneeID != res.Conversation.AssigneeID {
		t.Errorf("decision outcome %q assignee %q, want assigned to %q", d.Outcome, d.AssigneeID, res.Conversation.AssigneeID)
	}
	if d.Mode != "specific" || d.Strategy != "least_busy" {
		t.Errorf("decision names rule %q/%q, want specific/least_busy for the demo chat channel", d.Mode, d.Strategy)
	}
	if len(d.Candidates) < 3 || d.Reason == "" {
		t.Errorf("decision has %d candidates and reason %q, want the 3 chat agents and a reason", len(d.Candidates), d.Reason)
	}

	// The routing metrics counted it.
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`switchboard_conversations_routed_total{outcome="assigned"}`, "switchboard_routing_latency_seconds_bucket", "switchboard_routing_batch_size_count", `switchboard_routing_batch_phase_seconds_count{phase="commit"}`, "go_goroutines", "process_cpu_seconds_total"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// A restart with --demo keeps the data and says so.
	if code := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("serve exited with %d after SIGTERM, want 0", code)
	}
	again := startServer(t, "demo-again", dsn, "--demo")
	if got := waitStdout(t, again, demoChat)[1]; got != chat {
		t.Errorf("after a restart the demo prints chat channel %s, want %s", got, chat)
	}
	if !strings.Contains(again.stdout.String(), "already has an account") {
		t.Errorf("a second serve --demo does not say the demo data exists:\n%s", again.stdout.String())
	}
}

// testBalanced is R-A9 and R-X7 in one process: 200 concurrent inbound
// chats for 5 equal agents end up 40 each.
func testBalanced(t *testing.T, dsn string) {
	s := startServer(t, "serve", dsn)
	f := setUpRouting(t, s.URL, 5, 0, "chat")
	results, errs := fireInbound([]*client{f.admin}, f.channel, "balanced", 200)
	for _, err := range errs {
		t.Error(err)
	}
	for i, r := range results {
		if r != nil && r.Conversation.AssigneeID == "" {
			t.Errorf("inbound %d was left unassigned: %+v", i, r.Conversation)
		}
	}
	perAgent, unassigned := loads(t, f.admin)
	if len(unassigned) != 0 {
		t.Errorf("%d conversations are unassigned, want 0", len(unassigned))
	}
	checkBalanced(t, perAgent, f.agents, 200)
}

// testCapacity is R-A10: with 5 agents of capacity 30, 200 concurrent
// chats give exactly 150 assigned (30 each) and 50 waiting.
func testCapacity(t *testing.T, dsn string) {
	s := startServer(t, "serve", dsn)
	f := setUpRouting(t, s.URL, 5, 30, "chat")
	_, errs := fireInbound([]*client{f.admin}, f.channel, "capacity", 200)
	for _, err := range errs {
		t.Error(err)
	}
	perAgent, unassigned := loads(t, f.admin)
	checkBalanced(t, perAgent, f.agents, 150)
	for _, id := range f.agents {
		if perAgent[id] > 30 {
			t.Errorf("agent %s holds %d chats, over their capacity of 30", id, perAgent[id])
		}
	}
	if len(unassigned) != 50 {
		t.Errorf("%d conversations are unassigned, want 50", len(unassigned))
	}
	for _, c := range unassigned {
		if !c.Waiting {
			t.Errorf("unassigned conversation %s is not marked waiting (R-A10)", c.ID)
		}
	}
}

// testTwoProcesses is R-X7 across processes: two servers on one
// PostgreSQL database share the routing lock, so 200 concurrent chats split
// across both stay balanced and none is assigned twice; and an event
// stream on one server sees what the other did.
func testTwoProcesses(t *testing.T, dsn string) {
	a := startServer(t, "serve-A", dsn)
	b := startServer(t, "serve-B", dsn)
	f := setUpRouting(t, a.URL, 5, 0, "chat")
	onB := newClient(b.URL, f.admin.token)

	// The event stream on B, connected before anything is posted to A.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := subscribe(t, ctx, onB)

	results, errs := fireInbound([]*client{f.admin, onB}, f.channel, "two", 200)
	for _, err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	for i, r := range results {
		if r == nil {
			continue
		}
		if seen[r.Conversation.ID] {
			t.Errorf("inbound %d landed in conversation %s, which another contact's message also got", i, r.Conversation.ID)
		}
		seen[r.Conversation.ID] = true
	}
	perAgent, unassigned := loads(t, f.admin)
	if len(unassigned) != 0 {
		t.Errorf("%d conversations are unassigned, want 0", len(unassigned))
	}
	checkBalanced(t, perAgent, f.agents, 200)

	// No conversation was assigned twice: one decision each, and the
	// agents' load counters agree with the list.
	for id := range seen {
		var rec page[decision]
		f.admin.must(t, "GET", "/api/v1/conversations/"+id+"/routing", nil, &rec)
		if n := len(rec.Items); n != 1 || rec.Items[0].Outcome != "assigned" {
			t.Errorf("conversation %s has %d routing decisions (%+v), want one assignment", id, n, rec.Items)
		}
	}
	var users page[user]
	f.admin.must(t, "GET", "/api/v1/users", nil, &users)
	for _, u := range users.Items {
		if n, ok := perAgent[u.ID]; ok && u.OpenChats != n {
			t.Errorf("agent %s counts %d open chats, but the list shows %d assigned", u.Email, u.OpenChats, n)
		}
	}

	// An inbound message posted to A shows up on B's event stream.
	var res inboundResult
	f.admin.must(t, "POST", "/api/v1/channels/"+f.channel+"/inbound", inboundBody("sse", 1), &res)
	timeout := time.After(15 * time.Second)
	for {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatal("the event stream on B ended before conversation.created arrived")
			}
			if e.typ == "conversation.created" && e.conversationID == res.Conversation.ID {
				return
			}
		case <-timeout:
			t.Fatalf("B's event stream did not deliver conversation.created for %s (posted to A) within 15s", res.Conversation.ID)
		}
	}
}

// sseEvent is one event of GET /api/v1/events.
type sseEvent struct {
	typ            string
	conversationID string
}

// subscribe opens the event stream and returns its events once the
// server has confirmed the connection.
func subscribe(t *testing.T, ctx context.Context, c *client) <-chan sseEvent {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/api/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatalf("GET /api/v1/events: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		t.Fatalf("GET /api/v1/events: status %d", resp.StatusCode)
	}
	rd := bufio.NewReader(resp.Body)
	if line, err := rd.ReadString('\n'); err != nil || !strings.HasPrefix(line, ":") {
		t.Fatalf("the event stream did not start with a comment: %q, %v", line, err)
	}
	out := make(chan sseEvent, 1024)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		var typ string
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			switch {
			case strings.HasPrefix(line, "event: "):
				typ = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				var e struct {
					ConversationID string `json:"conversation_id"`
				}
				_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e)
				select {
				case out <- sseEvent{typ: typ, conversationID: e.ConversationID}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// testGracefulShutdown sends SIGTERM while inbound requests are in
// flight: the server exits 0, and every message it acknowledged (2xx) is
// in the database after a restart.
func testGracefulShutdown(t *testing.T, dsn string) {
	s := startServer(t, "serve", dsn)
	f := setUpRouting(t, s.URL, 5, 0, "chat")
	// An open event stream must not hold up the shutdown.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := subscribe(t, ctx, f.admin)

	load := startLoad(f, 12)
	load.waitAcked(50) // let the load build up, then stop the server while it is busy
	sigAt := load.markSignal()
	code := s.stop(30 * time.Second)
	took := time.Since(sigAt)
	acked, inFlight := load.wait()
	if code != 0 {
		t.Fatalf("serve exited with %d after SIGTERM, want 0", code)
	}
	if took > 10*time.Second {
		t.Errorf("serve took %s to stop; the open event stream (or something else) held up the shutdown", took.Round(time.Millisecond))
	}
	for range events { // the stream ended with the server
	}
	if !strings.Contains(s.stderr.String(), "switchboard stopped") {
		t.Errorf("serve did not log a clean stop")
	}
	if inFlight == 0 {
		t.Errorf("no request was in flight at SIGTERM, so the test proved nothing; %d acknowledged before", len(acked))
	}

	again := startServer(t, "serve-again", dsn)
	c := newClient(again.URL, f.admin.token)
	stored := map[string]bool{}
	for _, conv := range listConversations(t, c, "open") {
		stored[conv.ID] = true
	}
	missing := 0
	for _, id := range acked {
		if !stored[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged messages are not in the database after the restart", missing, len(acked))
	}
	t.Logf("%d messages acknowledged, %d of them sent before SIGTERM and answered after it; all stored", len(acked), inFlight)
}

// shutdownLoad keeps inbound requests in flight until the server is gone.
type shutdownLoad struct {
	f        *fixture
	mu       sync.Mutex
	acked    []string // conversation ids of 2xx answers
	inFlight int      // 2xx answers to requests sent before the signal, received after it
	sigAt    time.Time
	next     int
	stopping chan struct{}
	wg       sync.WaitGroup
}

// startLoad starts workers that each keep one inbound request in flight.
func startLoad(f *fixture, workers int) *shutdownLoad {
	l := &shutdownLoad{f: f, stopping: make(chan struct{})}
	for range workers {
		l.wg.Add(1)
		go l.work()
	}
	return l
}

func (l *shutdownLoad) work() {
	defer l.wg.Done()
	for {
		l.mu.Lock()
		i := l.next
		l.next++
		l.mu.Unlock()
		sent := time.Now()
		var res inboundResult
		_, err := l.f.admin.call("POST", "/api/v1/channels/"+l.f.channel+"/inbound", inboundBody("shutdown", i), &res)
		if err == nil {
			l.mu.Lock()
			l.acked = append(l.acked, res.Conversation.ID)
			if !l.sigAt.IsZero() && sent.Before(l.sigAt) {
				l.inFlight++
			}
			l.mu.Unlock()
		}
		select {
		case <-l.stopping:
			if err != nil { // the server is gone
				return
			}
		default:
		}
		if i > 20000 {
			return
		}
	}
}

// waitAcked waits until n requests were acknowledged.
func (l *shutdownLoad) waitAcked(n int) {
	for {
		l.mu.Lock()
		got := len(l.acked)
		l.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// markSignal records the moment the server is told to stop; workers end
// at their first failed request after it.
func (l *shutdownLoad) markSignal() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sigAt = time.Now()
	close(l.stopping)
	return l.sigAt
}

// wait waits for the workers and returns what was acknowledged.
func (l *shutdownLoad) wait() (acked []string, inFlight int) {
	l.wg.Wait()
	return l.acked, l.inFlight
}

// testLoad runs `switchboard load` against the running binary.
func testLoad(t *testing.T, dsn string) {
	s := startServer(t, "serve", dsn)
	res := runCmd(t, 2*time.Minute, nil, "load", "--url", s.URL, "--email", adminEmail, "--password", adminPassword,
		"--agents", "10", "--clients", "4", "--requests", "300", "--json")
	if res.code != 0 {
		t.Fatalf("switchboard load exited %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	var rep struct {
		Requests       int `json:"requests"`
		Errors         int `json:"errors"`
		Unassigned     int `json:"unassigned"`
		AssignedSpread int `json:"assigned_spread"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("switchboard load --json printed no JSON report: %v\n%s", err, res.stdout)
	}
	if rep.Requests != 300 || rep.Errors != 0 || rep.Unassigned != 0 || rep.AssignedSpread > 1 {
		t.Errorf("load report: %+v; want 300 requests, 0 errors, 0 unassigned, spread at most 1\n%s", rep, res.stderr)
	}
	if !regexp.MustCompile(`(?m)^errors\s+0$`).MatchString(res.stderr) {
		t.Errorf("the text report on stderr lacks the line \"errors 0\":\n%s", res.stderr)
	}
}

// testMigrate runs `switchboard migrate` twice: the second run finds
// nothing to do.
func testMigrate(t *testing.T, dsn string) {
	for i, want := range []string{"latest schema", "nothing to do"} {
		res := runCmd(t, time.Minute, nil, "migrate", "--db", dsn)
		if res.code != 0 || !strings.Contains(res.stdout, want) {
			t.Fatalf("migrate run %d: exit %d, want 0 and %q\nstdout:\n%s\nstderr:\n%s", i+1, res.code, want, res.stdout, res.stderr)
		}
	}
}
