package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/simulate"
	"github.com/switchboard-dev/switchboard/sqlstore"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Rule R-X6 from the command line without a database: rule files, a
// roster file, and arrivals from a CSV file or a Poisson stream.
func TestSimulateOfflineR_X6(t *testing.T) {
	dir := t.TempDir()
	roster := writeFile(t, dir, "roster.json", `{"users": [{"id": "ann", "name": "Ann", "chat_capacity": 1}, {"id": "bob", "name": "Bob", "chat_capacity": 1}],
		"teams": [{"id": "a", "name": "A", "main_member_ids": ["ann"]}, {"id": "b", "name": "B", "main_member_ids": ["bob"]}]}`)
	a := writeFile(t, dir, "team-a.json", `{"kind": "chat", "routing": {"enabled": true, "mode": "specific", "team_ids": ["a"]}}`)
	b := writeFile(t, dir, "a-and-b.json", `{"name": "A and B", "kind": "chat", "routing": {"enabled": true, "mode": "specific", "team_ids": ["a", "b"]}}`)
	arrivals := writeFile(t, dir, "arrivals.csv", "at,handle_seconds\n2026-03-02T09:00:00Z,60\n2026-03-02T09:00:10Z,60\n2026-03-02T09:00:20Z,60\n")
	code, stdout, stderr := run(t, nil, "simulate", "--rule-file", a, "--compare-rule-file", b, "--agents", roster, "--arrivals", arrivals, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var c simulate.Comparison
	if err := json.Unmarshal([]byte(stdout), &c); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if c.A.Rule != "team-a" || c.A.Waited != 2 || c.B.Rule != "A and B" || c.B.Waited != 1 || c.A.Wait.Max != 100 {
		t.Fatalf("R-X6: A %+v\nB %+v", c.A, c.B)
	}
	out := filepath.Join(dir, "report.html")
	code, _, stderr = run(t, nil, "simulate", "--rule-file", b, "--agents", roster, "--poisson", "30", "--hours", "2", "--handle-mean", "5m",
		"--handle-dist", "lognormal", "--from", "2026-03-02T09:00:00Z", "--format", "html", "--out", out)
	page, err := os.ReadFile(out)
	if code != 0 || err != nil || !strings.Contains(string(page), "<svg") || !strings.Contains(stderr, "report written to") {
		t.Fatalf("R-X6 HTML: exit %d, %v, stderr %s", code, err, stderr)
	}
	for _, bad := range [][]string{
		{"simulate", "--agents", roster, "--poisson", "3"},
		{"simulate", "--rule-file", a, "--agents", roster, "--poisson", "3", "--format", "xml"},
		{"simulate", "--rule-file", a, "--agents", roster, "--poisson", "3", "--arrivals", arrivals},
		{"simulate", "--rule-file", a, "--agents", roster, "--poisson", "-3"},
		{"simulate", "--rule-file", a, "--agents", roster, "--arrivals", roster},
		{"simulate", "--rule-file", a, "--poisson", "3"},
	} {
		if code, _, stderr := run(t, nil, bad...); code != 2 {
			t.Errorf("%q: exit %d (%s), want 2", bad, code, stderr)
		}
	}
	if _, stdout, _ := run(t, nil, "help"); !strings.Contains(stdout, "simulate") || !strings.Contains(stdout, "--compare-rule-file") {
		t.Errorf("help does not show simulate")
	}
}

// Rule R-X6 on a database: the saved channel's rule and recorded
// conversations, the account's roster, against a proposed rule.
func TestSimulateFromDatabaseR_X6(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "sb.db")
	st, err := sqlstore.Open(ctx, dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var clock atomic.Int64 // the service's background work reads it too
	clock.Store(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).UnixNano())
	svc := app.New(app.Config{Store: st, Now: func() time.Time { return time.Unix(0, clock.Load()).UTC() }, PasswordParams: &app.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}})
	svc.Start(ctx)
	res, err := svc.Setup(ctx, app.SetupInput{AccountName: "Acme", TimeZone: "UTC", AdminEmail: "admin@acme.test", AdminName: "Ada", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := svc.Authenticate(ctx, res.Token)
	ann, err := svc.CreateUser(ctx, admin, app.UserInput{Email: "ann@acme.test", Name: "Ann", Role: sb.RoleAgent, PaidSeat: true, ChatCapacity: 1, Password: "password ann"})
	if err != nil {
		t.Fatal(err)
	}
	rule := sb.RoutingRule{Enabled: true, Mode: sb.ModeSpecific, UserIDs: []string{ann.ID}}
	ch, err := svc.CreateChannel(ctx, admin, "", app.ChannelInput{Kind: sb.KindChat, Name: "Support chat", Routing: &rule, NewInbox: &app.InboxInput{Name: "Support"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		clock.Add(int64(time.Minute))
		if _, err := svc.Inbound(ctx, admin, ch.ID, app.InboundInput{Contact: app.InboundContact{Email: fmt.Sprintf("c%d@x.test", i)}, Body: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	svc.Close()
	st.Close()
	nobody := writeFile(t, dir, "off.json", `{"name": "off", "kind": "chat", "routing": {"enabled": false}}`)
	code, stdout, stderr := run(t, nil, "simulate", "--db", dsn, "--channel", ch.ID, "--compare-rule-file", nobody,
		"--from", "2026-03-02T00:00:00Z", "--to", "2026-03-03T00:00:00Z")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"A: Support chat", "B: off", "still waiting", "Ann"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("R-X6 table lacks %q:\n%s", want, stdout)
		}
	}
	if code, _, stderr := run(t, nil, "simulate", "--db", "sqlite:"+filepath.Join(dir, "missing.db"), "--channel", "x", "--from", "2026-03-02T00:00:00Z", "--to", "2026-03-03T00:00:00Z"); code != 1 || !strings.Contains(stderr, "no database") {
		t.Errorf("a missing database: exit %d, %s", code, stderr)
	}
}
