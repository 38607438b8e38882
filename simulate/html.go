package simulate

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"time"
)

//go:embed report.html.tmpl
var reportHTML string

var htmlTemplate = template.Must(template.New("report").Parse(reportHTML))

// WriteHTML writes the comparison as one self-contained HTML page with
// inline SVG charts: every agent's load over time as a heat map, the
// waiting-time distribution, and the totals and agents side by side.
func (c *Comparison) WriteHTML(w io.Writer) error {
	return htmlTemplate.Execute(w, c.view())
}

// Geometry of the charts, in SVG user units.
const (
	heatWidth = 720
	labelW    = 150
	maxRowH   = 14
	minRowH   = 2
	heatMaxH  = 560
)

type htmlView struct {
	Title    string
	Reports  []*runView
	Totals   []totalRow
	Hist     histView
	Agents   []agentRow
	Compared bool
}

type runView struct {
	Letter  string
	R       *Report
	Heat    heatView
	Color   string
	Percent string
}

type totalRow struct {
	Label  string
	Values []string
	Better []bool // which column is the better one, when two differ
}

type heatView struct {
	Width, Height int
	Rows          []heatRow
	Ticks         []tick
	MaxLoad       int32
	Legend        []legendStep
	ShowNames     bool
	Hidden        int // agents left out: they got nothing
}

type heatRow struct {
	Y, H  float64
	Name  string
	Cells []cell
}

type cell struct {
	X, W  float64
	Fill  string
	Title string
}

type tick struct {
	X     float64
	Label string
}

type legendStep struct {
	X     float64
	Fill  string
	Label string
}

type histView struct {
	Width, Height int
	Bins          []histBin
	MaxCount      int
	Series        []string
	Colors        []string
}

type histBin struct {
	Label string
	X     float64
	Bars  []histBar
}

type histBar struct {
	X, Y, W, H float64
	Fill       string
	Title      string
}

type agentRow struct {
	Name  string
	Cells []agentCell
}

type agentCell struct {
	Conversations int
	Bar           float64 // 0..100, share of the busiest agent's conversations
	Peak          int
	Busy          string
	Missing       bool
	Color         string
}

var runColors = []string{"#2563eb", "#ea580c"}

func (c *Comparison) view() htmlView {
	reps := []*Report{c.A}
	if c.B != nil {
		reps = append(reps, c.B)
	}
	v := htmlView{Title: "Dry run: " + c.A.Label(), Compared: c.B != nil}
	if c.B != nil {
		v.Title = fmt.Sprintf("Dry run: %s vs %s", c.A.Label(), c.B.Label())
	}
	for i, r := range reps {
		v.Reports = append(v.Reports, &runView{Letter: string(rune('A' + i)), R: r, Heat: heat(r), Color: runColors[i], Percent: pct(r.Assigned, r.Routed)})
	}
	v.Totals = totals(reps)
	v.Hist = histogram(reps)
	maxConv := 1
	for _, r := range reps {
		for _, a := range r.Agents {
			maxConv = max(maxConv, a.Conversations)
		}
	}
	for _, id := range agentOrder(reps) {
		row := agentRow{Name: agentName(reps, id)}
		for i, r := range reps {
			a := r.agent(id)
			if a == nil {
				row.Cells = append(row.Cells, agentCell{Missing: true})
				continue
			}
			row.Cells = append(row.Cells, agentCell{Conversations: a.Conversations, Bar: 100 * float64(a.Conversations) / float64(maxConv),
				Peak: a.PeakLoad, Busy: fmt.Sprintf("%.0f%%", 100*a.BusyShare), Color: runColors[i]})
		}
		v.Agents = append(v.Agents, row)
	}
	return v
}

func totals(reps []*Report) []totalRow {
	type metric struct {
		label string
		val   func(*Report) float64
		str   func(*Report) string
		lower bool // lower is better
	}
	ms := []metric{
		{"Assigned", func(r *Report) float64 { return float64(r.Assigned) }, func(r *Report) string { return fmt.Sprintf("%d (%s)", r.Assigned, pct(r.Assigned, r.Routed)) }, false},
		{"Assigned at once", func(r *Report) float64 { return float64(r.AssignedAtOnce) }, func(r *Report) string { return fmt.Sprint(r.AssignedAtOnce) }, false},
		{"Waited, then assigned", func(r *Report) float64 { return float64(r.Waited) }, func(r *Report) string { return fmt.Sprint(r.Waited) }, true},
		{"Left unassigned", func(r *Report) float64 { return float64(r.LeftUnassigned) }, func(r *Report) string {
			return fmt.Sprintf("%d (%s)", r.LeftUnassigned, pct(r.LeftUnassigned, r.Routed))
		}, true},
		{"Wait p50", func(r *Report) float64 { return r.Wait.P50 }, func(r *Report) string { return dur(r.Wait.P50) }, true},
		{"Wait p90", func(r *Report) float64 { return r.Wait.P90 }, func(r *Report) string { return dur(r.Wait.P90) }, true},
		{"Wait p99", func(r *Report) float64 { return r.Wait.P99 }, func(r *Report) string { return dur(r.Wait.P99) }, true},
		{"Busiest agent's conversations", func(r *Report) float64 { return float64(busiest(r)) }, func(r *Report) string { return fmt.Sprint(busiest(r)) }, true},
	}
	var rows []totalRow
	for _, m := range ms {
		row := totalRow{Label: m.label, Better: make([]bool, len(reps))}
		for _, r := range reps {
			row.Values = append(row.Values, m.str(r))
		}
		if len(reps) == 2 {
			a, b := m.val(reps[0]), m.val(reps[1])
			if a != b {
				aBetter := (a < b) == m.lower
				row.Better[0], row.Better[1] = aBetter, !aBetter
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func busiest(r *Report) int {
	n := 0
	for _, a := range r.Agents {
		n = max(n, a.Conversations)
	}
	return n
}

// heat lays out the load heat map: a row per agent (busiest first), a cell
// per run of equal load.
func heat(r *Report) heatView {
	ls := r.Load
	var order []string
	for _, id := range agentOrder([]*Report{r}) {
		if a := r.agent(id); a.Conversations > 0 {
			order = append(order, id)
		}
	}
	hidden := len(r.Agents) - len(order)
	idx := map[string]int{}
	for k, a := range r.Agents {
		idx[a.ID] = k
	}
	rowH := math.Max(minRowH, math.Min(maxRowH, float64(heatMaxH)/float64(max(len(order), 1))))
	hv := heatView{Width: labelW + heatWidth + 40, ShowNames: rowH >= 9, Hidden: hidden}
	if ls == nil || len(ls.Peak) == 0 {
		hv.Height = 40
		return hv
	}
	buckets := len(ls.Peak[0])
	cw := float64(heatWidth) / float64(buckets)
	for _, p := range ls.Peak {
		for _, v := range p {
			hv.MaxLoad = max(hv.MaxLoad, v)
		}
	}
	for n, id := range order {
		k := idx[id]
		p := ls.Peak[k]
		row := heatRow{Y: float64(n) * rowH, H: math.Max(rowH-1, 1), Name: r.Agents[k].Name}
		for b := 0; b < buckets; {
			e := b
			for e < buckets && p[e] == p[b] {
				e++
			}
			if p[b] > 0 {
				from := ls.Start.Add(time.Duration(b) * ls.Step)
				row.Cells = append(row.Cells, cell{X: labelW + float64(b)*cw, W: float64(e-b) * cw, Fill: shade(p[b], hv.MaxLoad),
					Title: fmt.Sprintf("%s: up to %d open from %s for %s", r.Agents[k].Name, p[b], from.Format("Mon 15:04"), (time.Duration(e-b) * ls.Step).Round(time.Minute))})
			}
			b = e
		}
		hv.Rows = append(hv.Rows, row)
	}
	hv.Height = int(float64(len(order))*rowH) + 60
	for i := 0; i <= 6; i++ {
		at := ls.Start.Add(time.Duration(float64(ls.Step) * float64(buckets) * float64(i) / 6))
		label := at.Format("Mon 15:04")
		if ls.Step*time.Duration(buckets) < 2*time.Hour {
			label = at.Format("15:04:05")
		}
		hv.Ticks = append(hv.Ticks, tick{X: labelW + float64(heatWidth)*float64(i)/6, Label: label})
	}
	for i := int32(1); i <= hv.MaxLoad && i <= 12; i++ {
		v := i
		if hv.MaxLoad > 12 {
			v = int32(math.Round(float64(i) * float64(hv.MaxLoad) / 12))
		}
		hv.Legend = append(hv.Legend, legendStep{X: labelW + float64(i-1)*36, Fill: shade(v, hv.MaxLoad), Label: fmt.Sprint(v)})
	}
	return hv
}

// shade maps a load to a colour from pale to deep blue.
func shade(v, maxV int32) string {
	if maxV <= 0 {
		maxV = 1
	}
	t := math.Sqrt(float64(v) / float64(maxV))
	lerp := func(a, b float64) int { return int(math.Round(a + (b-a)*t)) }
	return fmt.Sprintf("rgb(%d,%d,%d)", lerp(219, 30), lerp(234, 64), lerp(254, 175))
}

// waitBins are the waiting-time histogram's upper bounds, in seconds.
var waitBins = []struct {
	upTo  float64
	label string
}{{10, "<10s"}, {30, "10–30s"}, {60, "30s–1m"}, {120, "1–2m"}, {300, "2–5m"}, {600, "5–10m"}, {1800, "10–30m"}, {3600, "30m–1h"}, {4 * 3600, "1–4h"}, {math.Inf(1), "4h+"}}

func histogram(reps []*Report) histView {
	const w, h, left, bottom = 880, 260, 50, 40
	hv := histView{Width: w, Height: h}
	counts := make([][]int, len(reps))
	for i, r := range reps {
		counts[i] = make([]int, len(waitBins))
		for _, s := range r.Waits {
			for b, bin := range waitBins {
				if s < bin.upTo {
					counts[i][b]++
					break
				}
			}
		}
		for _, n := range counts[i] {
			hv.MaxCount = max(hv.MaxCount, n)
		}
		hv.Series = append(hv.Series, fmt.Sprintf("%c: %s (%d waited)", 'A'+i, r.Label(), len(r.Waits)))
		hv.Colors = append(hv.Colors, runColors[i])
	}
	slot := float64(w-left-10) / float64(len(waitBins))
	barW := (slot - 12) / float64(len(reps))
	plotH := float64(h - bottom - 20)
	for b, bin := range waitBins {
		x := left + float64(b)*slot
		hb := histBin{Label: bin.label, X: x + slot/2}
		for i := range reps {
			n := counts[i][b]
			bh := 0.0
			if hv.MaxCount > 0 {
				bh = plotH * float64(n) / float64(hv.MaxCount)
			}
			hb.Bars = append(hb.Bars, histBar{X: x + 6 + float64(i)*barW, Y: 20 + plotH - bh, W: barW - 2, H: bh, Fill: runColors[i],
				Title: fmt.Sprintf("%c: %d waited %s", 'A'+i, n, bin.label)})
		}
		hv.Bins = append(hv.Bins, hb)
	}
	return hv
}
