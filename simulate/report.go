package simulate

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what one run of a rule did.
type Report struct {
	Rule     string    `json:"rule"`
	Roster   string    `json:"roster,omitempty"` // the roster's name, if it has one
	Kind     string    `json:"kind"`
	Mode     string    `json:"mode"`
	Weighted bool      `json:"weighted"` // loads and capacities in units (R-X5)
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Arrivals int       `json:"arrivals"`
	// Routed counts the arrivals that started a conversation; the others
	// were messages in their contact's open conversation (R-A11).
	Routed    int `json:"routed"`
	Continued int `json:"continued"`
	// Assigned counts conversations that got an assignee: at once
	// (AssignedAtOnce) or after waiting (Waited).
	Assigned       int `json:"assigned"`
	AssignedAtOnce int `json:"assigned_at_once"`
	Waited         int `json:"waited"`
	// LeftUnassigned counts those that never got one: no candidate at all
	// (Unassigned, R-M1) or still waiting at the end (StillWaiting).
	LeftUnassigned int `json:"left_unassigned"`
	Unassigned     int `json:"unassigned"`
	StillWaiting   int `json:"still_waiting"`
	// Wait describes how long the conversations that waited for capacity
	// or availability waited until drained (R-X2), in seconds.
	Wait   WaitStats      `json:"waiting_time"`
	Agents []*AgentReport `json:"agents"`

	// Assignees is each arrival's assignee, in arrival order ("" for none,
	// and for a continued one): what a replay is compared with.
	Assignees []string `json:"-"`
	// Load is the agents' open conversations over time, for charts.
	Load *LoadSeries `json:"-"`
	// Waits are the waiting times, in seconds, of those who waited.
	Waits []float64 `json:"-"`
}

// Label names the run: its rule, and its roster when that has a name.
func (r *Report) Label() string {
	if r.Roster == "" {
		return r.Rule
	}
	return r.Rule + " · " + r.Roster
}

// WaitStats summarises waiting times in seconds.
type WaitStats struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// AgentReport is one agent's share.
type AgentReport struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Conversations int    `json:"conversations"`
	// PeakLoad is the most conversations of the run they had open at once.
	PeakLoad int `json:"peak_load"`
	// PeakUnits is PeakLoad in units with weights (R-X5).
	PeakUnits int `json:"peak_units,omitempty"`
	// BusyShare is the share of the period they had at least one open.
	BusyShare float64 `json:"busy_share"`
}

// LoadSeries samples every agent's open conversations: Peak[agent][b] is
// the most they had open during bucket b of width Step from Start.
type LoadSeries struct {
	Start time.Time
	Step  time.Duration
	Peak  [][]int32
}

// report builds the run's report.
func (s *sim) report(rule *Rule, weighted bool, start time.Time, opt Options) *Report {
	end := s.last
	if opt.To.After(end) {
		end = opt.To
	}
	mode := rule.Routing.Mode
	if mode == "" || !rule.Routing.Enabled {
		mode = "unassigned"
	}
	name := rule.Name
	if name == "" {
		name = rule.ID
	}
	r := &Report{Rule: name, Kind: string(rule.Kind), Mode: mode, Weighted: weighted, From: start, To: end, Arrivals: len(s.arr),
		Assignees: make([]string, len(s.arr)), Agents: s.agents, Waits: s.waits}
	for i, st := range s.state {
		if st == stContinued {
			r.Continued++
			continue
		}
		switch st {
		case stWaiting:
			r.StillWaiting++
		case stUnassigned:
			r.Unassigned++
		}
		if s.who[i] >= 0 {
			r.Assignees[i] = s.agents[s.who[i]].ID
		}
	}
	r.Routed = r.Arrivals - r.Continued
	r.Waited = len(s.waits)
	r.LeftUnassigned = r.Unassigned + r.StillWaiting
	r.Assigned = r.Routed - r.LeftUnassigned
	r.AssignedAtOnce = r.Assigned - r.Waited
	r.Wait = waitStats(s.waits)
	period := end.Sub(start)
	for k, a := range s.agents {
		busy := s.busy[k]
		if s.open[k] > 0 {
			busy += end.Sub(s.since[k])
		}
		if period > 0 {
			a.BusyShare = round(float64(busy)/float64(period), 4)
		}
		if weighted {
			a.PeakUnits = a.PeakLoad * s.cost
		}
	}
	r.Load = s.series(start, end, opt.Buckets)
	return r
}

// series turns the load changes into per-bucket peaks.
func (s *sim) series(start, end time.Time, buckets int) *LoadSeries {
	if buckets <= 0 {
		buckets = 96
	}
	step := end.Sub(start) / time.Duration(buckets)
	if step <= 0 {
		step = time.Second
	}
	ls := &LoadSeries{Start: start, Step: step, Peak: make([][]int32, len(s.agents))}
	cur := make([]int32, len(s.agents))
	filled := make([]int, len(s.agents)) // buckets before this one hold their final peak
	for k := range ls.Peak {
		ls.Peak[k] = make([]int32, buckets)
	}
	bucket := func(at int64) int {
		b := int((at - start.UnixNano()) / int64(step))
		return min(max(b, 0), buckets-1)
	}
	for _, c := range s.changes {
		b, p := bucket(c.at), ls.Peak[c.agent]
		for ; filled[c.agent] < b; filled[c.agent]++ {
			p[filled[c.agent]+1] = max(p[filled[c.agent]+1], cur[c.agent])
		}
		p[b] = max(p[b], c.load)
		cur[c.agent] = c.load
	}
	for k, p := range ls.Peak {
		for ; filled[k] < buckets-1; filled[k]++ {
			p[filled[k]+1] = max(p[filled[k]+1], cur[k])
		}
	}
	return ls
}

// waitStats computes nearest-rank percentiles.
func waitStats(w []float64) WaitStats {
	if len(w) == 0 {
		return WaitStats{}
	}
	s := slices.Clone(w)
	slices.Sort(s)
	sum := 0.0
	for _, v := range s {
		sum += v
	}
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return round(s[min(max(i, 0), len(s)-1)], 3)
	}
	return WaitStats{Count: len(s), Mean: round(sum/float64(len(s)), 3), P50: rank(0.50), P90: rank(0.90), P99: rank(0.99), Max: round(s[len(s)-1], 3)}
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// Comparison is one rule's report, or two side by side (A and B).
type Comparison struct {
	A *Report `json:"a"`
	B *Report `json:"b,omitempty"`
}

// WriteJSON writes the comparison as indented JSON.
func (c *Comparison) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

// WriteTable writes the comparison as terminal tables: the totals with A
// and B side by side, then every agent.
func (c *Comparison) WriteTable(w io.Writer) error {
	reps := []*Report{c.A}
	if c.B != nil {
		reps = append(reps, c.B)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(label string, cells ...string) { fmt.Fprintf(tw, "%s\t%s\t\n", label, strings.Join(cells, "\t")) }
	head := []string{}
	for i, r := range reps {
		head = append(head, fmt.Sprintf("%c: %s", 'A'+i, r.Label()))
	}
	row("", head...)
	each := func(label string, f func(r *Report) string) {
		cells := make([]string, len(reps))
		for i, r := range reps {
			cells[i] = f(r)
		}
		row(label, cells...)
	}
	each("rule", func(r *Report) string { return r.Kind + " " + r.Mode })
	each("arrivals", func(r *Report) string { return fmt.Sprint(r.Arrivals) })
	each("assigned", func(r *Report) string { return fmt.Sprintf("%d (%s)", r.Assigned, pct(r.Assigned, r.Routed)) })
	each("  at once", func(r *Report) string { return fmt.Sprint(r.AssignedAtOnce) })
	each("  after waiting", func(r *Report) string { return fmt.Sprint(r.Waited) })
	each("left unassigned", func(r *Report) string {
		return fmt.Sprintf("%d (%s)", r.LeftUnassigned, pct(r.LeftUnassigned, r.Routed))
	})
	each("  still waiting", func(r *Report) string { return fmt.Sprint(r.StillWaiting) })
	each("wait p50", func(r *Report) string { return dur(r.Wait.P50) })
	each("wait p90", func(r *Report) string { return dur(r.Wait.P90) })
	each("wait p99", func(r *Report) string { return dur(r.Wait.P99) })
	each("wait max", func(r *Report) string { return dur(r.Wait.Max) })
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	cols := []string{"conversations", "peak", "busy"}
	hdr := []string{}
	for i := range reps {
		for _, c := range cols {
			hdr = append(hdr, fmt.Sprintf("%c %s", 'A'+i, c))
		}
	}
	row("agent", hdr...)
	for _, id := range agentOrder(reps) {
		cells := []string{}
		for _, r := range reps {
			a := r.agent(id)
			if a == nil {
				cells = append(cells, "-", "-", "-")
				continue
			}
			cells = append(cells, fmt.Sprint(a.Conversations), fmt.Sprint(a.PeakLoad), fmt.Sprintf("%.0f%%", a.BusyShare*100))
		}
		row(agentName(reps, id), cells...)
	}
	return tw.Flush()
}

// agentOrder lists every agent of the reports, busiest in A first.
func agentOrder(reps []*Report) []string {
	var ids []string
	seen := map[string]bool{}
	for _, r := range reps {
		sorted := slices.Clone(r.Agents)
		slices.SortStableFunc(sorted, func(a, b *AgentReport) int {
			return cmp.Or(cmp.Compare(b.Conversations, a.Conversations), cmp.Compare(a.ID, b.ID))
		})
		for _, a := range sorted {
			if !seen[a.ID] {
				seen[a.ID] = true
				ids = append(ids, a.ID)
			}
		}
	}
	return ids
}

func agentName(reps []*Report, id string) string {
	for _, r := range reps {
		if a := r.agent(id); a != nil {
			return a.Name
		}
	}
	return id
}

func (r *Report) agent(id string) *AgentReport {
	for _, a := range r.Agents {
		if a.ID == id {
			return a
		}
	}
	return nil
}

func pct(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
}

// dur writes seconds as a short duration.
func dur(sec float64) string {
	if sec == 0 {
		return "0s"
	}
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
