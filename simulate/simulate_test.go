package simulate_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/simulate"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// t0 is a Monday morning.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

func chatRule(name string, users []string, teams ...string) *simulate.Rule {
	return &simulate.Rule{Name: name, Kind: sb.KindChat, Routing: sb.RoutingRule{Enabled: true, Mode: sb.ModeSpecific, UserIDs: users, TeamIDs: teams}}
}

func roster(capacity int, ids ...string) *simulate.Roster {
	r := &simulate.Roster{}
	for _, id := range ids {
		r.Users = append(r.Users, simulate.RosterUser{ID: id, Name: strings.ToUpper(id[:1]) + id[1:], ChatCapacity: capacity})
	}
	return r
}

func run(t testing.TB, rule *simulate.Rule, ro *simulate.Roster, arr []simulate.Arrival, opt simulate.Options) *simulate.Report {
	t.Helper()
	r, err := simulate.Run(rule, ro, arr, opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Rule R-X6: the replay routes like the server — least busy (R-A9), capacity
// (R-A10), waiting and the backlog drain to whoever frees capacity (R-X2),
// returning contacts to their previous assignee (R-X4), a message in an
// open conversation continues it (R-A11) — and reports it.
func TestReplayR_X6(t *testing.T) {
	arr := []simulate.Arrival{
		{ID: "c1", At: at(0), Contact: "x", HandleSeconds: 100},  // ann (rule order on a full tie)
		{ID: "c2", At: at(10), Contact: "y", HandleSeconds: 50},  // bob (least busy)
		{ID: "c3", At: at(20), Contact: "z", HandleSeconds: 30},  // waits: both at capacity 1
		{ID: "c4", At: at(30), Contact: "x", HandleSeconds: 10},  // x's conversation is open: continued
		{ID: "c5", At: at(40), HandleSeconds: 5},                 // waits too
		{ID: "c6", At: at(200), Contact: "y", HandleSeconds: 10}, // returning: back to bob (R-X4) though ann is as free
	}
	// c2 closes at 60: bob takes c3 (waited 40 s), which closes at 90: bob
	// takes c5 (waited 50 s), closed at 95. ann's c1 closes at 100.
	r := run(t, chatRule("A", []string{"ann", "bob"}), roster(1, "ann", "bob"), arr, simulate.Options{})
	want := []string{"ann", "bob", "bob", "", "bob", "bob"}
	if !slices.Equal(r.Assignees, want) {
		t.Fatalf("R-X6 assignees %q, want %q", r.Assignees, want)
	}
	got := fmt.Sprintf("arrivals %d routed %d continued %d assigned %d at once %d waited %d left %d", r.Arrivals, r.Routed, r.Continued, r.Assigned, r.AssignedAtOnce, r.Waited, r.LeftUnassigned)
	if want := "arrivals 6 routed 5 continued 1 assigned 5 at once 3 waited 2 left 0"; got != want {
		t.Errorf("R-X6 totals: %s, want %s", got, want)
	}
	if r.Wait.Count != 2 || r.Wait.P50 != 40 || r.Wait.P99 != 50 || r.Wait.Max != 50 || r.Wait.Mean != 45 {
		t.Errorf("R-X6 waiting time %+v, want 2 waits of 40 and 50 s", r.Wait)
	}
	ann, bob := r.Agents[0], r.Agents[1]
	if ann.Conversations != 1 || bob.Conversations != 4 || ann.PeakLoad != 1 || bob.PeakLoad != 1 {
		t.Errorf("R-X6 agents %+v %+v", ann, bob)
	}
	// The period runs from 0 to the last close at 210: ann busy 0-100, bob 10-95 and 200-210.
	if !r.From.Equal(t0) || !r.To.Equal(at(210)) || ann.BusyShare != 0.4762 || bob.BusyShare != 0.4524 {
		t.Errorf("R-X6 period %s–%s, busy shares ann %v bob %v", r.From, r.To, ann.BusyShare, bob.BusyShare)
	}
}

// Rule R-X6: conversations that never find anyone stay unassigned; those
// waiting for availability are given when working hours begin (R-X1, R-X2).
func TestReplayAvailabilityR_X6(t *testing.T) {
	ro := roster(0, "ann", "bob")
	ro.Users[0].WorkingHours = sb.WorkingHours{TimeZone: "UTC", Ranges: []sb.HoursRange{{Day: time.Monday, Start: 9*60 + 5, End: 17 * 60}}}
	ro.Users[1].Status = sb.Away
	arr := []simulate.Arrival{{At: at(0), HandleSeconds: 60}, {At: at(60), HandleSeconds: 60}, {At: at(400), HandleSeconds: 60}}
	r := run(t, chatRule("A", []string{"ann", "bob"}), ro, arr, simulate.Options{})
	if !slices.Equal(r.Assignees, []string{"ann", "ann", "ann"}) || r.Waited != 2 || r.Wait.Max != 300 || r.Wait.P50 != 240 {
		t.Fatalf("R-X6 with R-X1: assignees %q, waited %d, wait %+v; want all to ann, two waiting until 09:05", r.Assignees, r.Waited, r.Wait)
	}
	off := chatRule("nobody", nil)
	r = run(t, off, ro, arr, simulate.Options{})
	if r.Unassigned != 3 || r.LeftUnassigned != 3 || r.Assigned != 0 {
		t.Fatalf("R-X6: a rule naming nobody leaves everything unassigned, got %+v", r)
	}
	// An unassigned conversation stays open until closed by hand (after its
	// handling time): its contact writing again meanwhile continues it (R-A11).
	again := []simulate.Arrival{{At: at(0), Contact: "x", HandleSeconds: 60}, {At: at(30), Contact: "x"}, {At: at(90), Contact: "x"}}
	r = run(t, off, ro, again, simulate.Options{})
	if r.Continued != 1 || r.Unassigned != 2 {
		t.Fatalf("R-X6: want the second arrival to continue the open unassigned conversation: continued %d, unassigned %d", r.Continued, r.Unassigned)
	}
}

// Rule R-X6: the same seed gives the same result; the random picks of an
// email rule depend on it.
func TestDeterministicR_X6(t *testing.T) {
	ro := roster(0, "ann", "bob", "cat", "dan")
	arr, err := simulate.Poisson{From: t0, Hours: 4, RatePerHour: 60, HandleSecs: 300, Seed: 3}.Arrivals()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := simulate.Poisson{From: t0, Hours: 4, RatePerHour: 60, HandleSecs: 300, Seed: 3}.Arrivals()
	if !slices.Equal(arr, again) {
		t.Fatal("R-X6: the same Poisson seed must give the same stream")
	}
	email := &simulate.Rule{Name: "email", Kind: sb.KindEmail, Routing: sb.RoutingRule{Enabled: true, Mode: sb.ModeSpecific, UserIDs: []string{"ann", "bob", "cat", "dan"}}}
	a := run(t, email, ro, arr, simulate.Options{Seed: 9})
	b := run(t, email, ro, arr, simulate.Options{Seed: 9})
	c := run(t, email, ro, arr, simulate.Options{Seed: 10})
	if !slices.Equal(a.Assignees, b.Assignees) {
		t.Fatal("R-X6: same seed, different assignees")
	}
	if slices.Equal(a.Assignees, c.Assignees) {
		t.Fatal("R-X6: another seed should pick differently among 4 users over hundreds of emails")
	}
}

// Rule R-X6 with R-X5: a roster's weights make the replay count units.
func TestWeightedReplayR_X6(t *testing.T) {
	ro := roster(0, "ann", "bob")
	w := sb.DefaultWeights()
	w.Enabled, w.Capacities = true, map[string]int{"ann": 100, "bob": 100}
	ro.Weights = &w
	call := &simulate.Rule{Name: "calls", Kind: sb.KindCalling, Routing: sb.RoutingRule{Enabled: true, Mode: sb.ModeSpecific, UserIDs: []string{"ann", "bob"}}}
	arr := []simulate.Arrival{{At: at(0), HandleSeconds: 100}, {At: at(1), HandleSeconds: 100}, {At: at(2), HandleSeconds: 100}}
	r := run(t, call, ro, arr, simulate.Options{})
	if !slices.Equal(r.Assignees, []string{"ann", "bob", "ann"}) || r.Waited != 1 || !r.Weighted || r.Agents[0].PeakUnits != 100 {
		t.Fatalf("R-X6 with R-X5: one call each (100 units), the third waits: %q waited %d weighted %v %+v", r.Assignees, r.Waited, r.Weighted, r.Agents[0])
	}
}

// goldenCase is the comparison the golden files show: what if we add
// team B to the rule, on a synthetic afternoon.
func goldenCase(t testing.TB) *simulate.Comparison {
	ro := &simulate.Roster{}
	var a, b []string
	for i := range 6 {
		id := fmt.Sprintf("agent%d", i+1)
		ro.Users = append(ro.Users, simulate.RosterUser{ID: id, Name: fmt.Sprintf("Agent %d", i+1), ChatCapacity: 2})
		if i < 4 {
			a = append(a, id)
		} else {
			b = append(b, id)
		}
	}
	ro.Teams = []simulate.RosterTeam{{ID: "team-a", Name: "A", MainMemberIDs: a}, {ID: "team-b", Name: "B", MainMemberIDs: b}}
	arr, err := simulate.Poisson{From: t0, Hours: 3, RatePerHour: 40, HandleSecs: 600, Distribution: simulate.LogNormal, Seed: 42}.Arrivals()
	if err != nil {
		t.Fatal(err)
	}
	ra := run(t, chatRule("team A", nil, "team-a"), ro, arr, simulate.Options{Seed: 1})
	rb := run(t, chatRule("teams A and B", nil, "team-a", "team-b"), ro, arr, simulate.Options{Seed: 1})
	return &simulate.Comparison{A: ra, B: rb}
}

// Rule R-X6: the JSON and the table of a comparison, as golden files
// (go test ./simulate -update rewrites them).
func TestGoldenR_X6(t *testing.T) {
	c := goldenCase(t)
	for _, g := range []struct {
		file  string
		write func(*bytes.Buffer) error
	}{
		{"compare.json", func(b *bytes.Buffer) error { return c.WriteJSON(b) }},
		{"compare.txt", func(b *bytes.Buffer) error { return c.WriteTable(b) }},
	} {
		var buf bytes.Buffer
		if err := g.write(&buf); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", g.file)
		if *update {
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s differs from the golden file (run with -update if the change is meant):\n%s", g.file, buf.String())
		}
	}
}

// Rule R-X6: the HTML report is one page with the charts, and nothing the
// template refused to render.
func TestHTMLReportR_X6(t *testing.T) {
	var buf bytes.Buffer
	if err := goldenCase(t).WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{"<!doctype html>", "Dry run: team A vs teams A and B", `aria-label="load over time per agent"`, `aria-label="waiting-time distribution"`, "Agent 6", "<rect"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, bad := range []string{"ZgotmplZ", "<script", "http://", "https://"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q (escaping failure or an outside resource)", bad)
		}
	}
}

func TestReadArrivals(t *testing.T) {
	jsonl := `{"id":"a","at":"2026-03-02T09:00:00Z","contact":"x","handle_seconds":30}

{"at":"2026-03-02T09:01:00Z","owner":"ann","known":true,"open":true}
`
	csv := "at,contact,owner,known,handle_seconds,open,id\n2026-03-02T09:00:00Z,x,,false,30,false,a\n2026-03-02T09:01:00Z,,ann,true,0,true,\n"
	want := []simulate.Arrival{{ID: "a", At: t0, Contact: "x", HandleSeconds: 30}, {At: t0.Add(time.Minute), Owner: "ann", Known: true, Open: true}}
	for name, in := range map[string]string{"jsonl": jsonl, "csv": csv} {
		got, err := simulate.ReadArrivals(strings.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != 2 || got[0] != want[0] || got[1].At != want[1].At || got[1] != want[1] {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
	for name, in := range map[string]string{
		"bad time":       "at\nyesterday\n",
		"unknown column": "at,colour\n2026-03-02T09:00:00Z,red\n",
		"no at":          "contact\nx\n",
		"negative":       `{"at":"2026-03-02T09:00:00Z","handle_seconds":-1}`,
		"unknown field":  `{"at":"2026-03-02T09:00:00Z","colour":"red"}`,
	} {
		if _, err := simulate.ReadArrivals(strings.NewReader(in)); !sb.IsKind(err, sb.Invalid) {
			t.Errorf("%s: err %v, want Invalid", name, err)
		}
	}
}

func TestPoisson(t *testing.T) {
	arr, err := simulate.Poisson{From: t0, Hours: 100, RatePerHour: 60, HandleSecs: 120, Distribution: simulate.LogNormal, Seed: 5}.Arrivals()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for i, a := range arr {
		sum += a.HandleSeconds
		if a.At.Before(t0) || !a.At.Before(t0.Add(100*time.Hour)) || (i > 0 && a.At.Before(arr[i-1].At)) {
			t.Fatalf("arrival %d at %s: out of order or range", i, a.At)
		}
	}
	if n := len(arr); n < 5700 || n > 6300 {
		t.Errorf("%d arrivals in 100 h at 60/h, want about 6000", n)
	}
	if mean := sum / float64(len(arr)); mean < 110 || mean > 130 {
		t.Errorf("mean handling %.1f s, want about 120", mean)
	}
	for _, bad := range []simulate.Poisson{{Hours: 1, HandleSecs: 1}, {RatePerHour: 1, HandleSecs: 1}, {RatePerHour: 1, Hours: 1}, {RatePerHour: 1, Hours: 1, HandleSecs: 1, Distribution: "normal"}} {
		if _, err := bad.Arrivals(); !sb.IsKind(err, sb.Invalid) {
			t.Errorf("%+v: err %v, want Invalid", bad, err)
		}
	}
}

func TestRosterAndRuleValidation(t *testing.T) {
	for name, ro := range map[string]*simulate.Roster{
		"no id":      {Users: []simulate.RosterUser{{Name: "x"}}},
		"twice":      {Users: []simulate.RosterUser{{ID: "a"}, {ID: "a"}}},
		"bad status": {Users: []simulate.RosterUser{{ID: "a", Status: "busy"}}},
	} {
		if _, err := simulate.Run(chatRule("r", nil), ro, nil, simulate.Options{}); !sb.IsKind(err, sb.Invalid) {
			t.Errorf("%s: err %v, want Invalid", name, err)
		}
	}
	if _, err := simulate.ReadRule(strings.NewReader(`{"kind":"fax"}`)); !sb.IsKind(err, sb.Invalid) {
		t.Errorf("unknown kind: err %v, want Invalid", err)
	}
	r, err := simulate.ReadRule(strings.NewReader(`{"id":"ch1","account_id":"a","inbox_id":"in","kind":"chat","name":"Support chat","config":{},"routing":{"enabled":true,"mode":"specific","user_ids":["ann"]}}`))
	if err != nil || r.Name != "Support chat" || r.Routing.UserIDs[0] != "ann" {
		t.Errorf("a saved channel as a rule: %+v, %v", r, err)
	}
}
