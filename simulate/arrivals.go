package simulate

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// ReadArrivals reads an arrival stream: JSON Lines (one Arrival object a
// line) or CSV with a header naming some of the columns at, contact,
// owner, known, handle_seconds, open, id (at is required, RFC 3339).
// The format is told by the first non-blank character: '{' for JSON
// Lines. Invalid, with the line, for anything else.
func ReadArrivals(r io.Reader) ([]Arrival, error) {
	br := bufio.NewReader(r)
	for {
		b, err := br.Peek(1)
		if err != nil {
			return []Arrival{}, nil // empty stream
		}
		if !isSpace(b[0]) {
			if b[0] == '{' {
				return readJSONL(br)
			}
			return readCSV(br)
		}
		br.ReadByte()
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func readJSONL(r io.Reader) ([]Arrival, error) {
	const op = "simulate.ReadArrivals"
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var out []Arrival
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var a Arrival
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		if err := d.Decode(&a); err != nil {
			return nil, sb.Invalidf(op, "arrivals", "line %d: %v", line, err)
		}
		if err := a.check(); err != nil {
			return nil, sb.Invalidf(op, "arrivals", "line %d: %v", line, err)
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return nil, sb.Invalidf(op, "arrivals", "reading: %v", err)
	}
	return out, nil
}

func readCSV(r io.Reader) ([]Arrival, error) {
	const op = "simulate.ReadArrivals"
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err != nil {
		return nil, sb.Invalidf(op, "arrivals", "CSV header: %v", err)
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(h))
		switch h {
		case "at", "contact", "owner", "known", "handle_seconds", "open", "id":
			col[h] = i
		default:
			return nil, sb.Invalidf(op, "arrivals", "CSV header: unknown column %q (use at, contact, owner, known, handle_seconds, open, id)", h)
		}
	}
	if _, ok := col["at"]; !ok {
		return nil, sb.Invalidf(op, "arrivals", "CSV header: the column at is required")
	}
	var out []Arrival
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, sb.Invalidf(op, "arrivals", "line %d: %v", line, err)
		}
		a, err := csvArrival(rec, col)
		if err == nil {
			err = a.check()
		}
		if err != nil {
			return nil, sb.Invalidf(op, "arrivals", "line %d: %v", line, err)
		}
		out = append(out, a)
	}
}

func csvArrival(rec []string, col map[string]int) (Arrival, error) {
	get := func(name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var a Arrival
	var err error
	if a.At, err = time.Parse(time.RFC3339Nano, get("at")); err != nil {
		return a, fmt.Errorf("at %q: use RFC 3339 such as 2026-03-02T09:00:00Z", get("at"))
	}
	a.ID, a.Contact, a.Owner = get("id"), get("contact"), get("owner")
	if v := get("handle_seconds"); v != "" {
		if a.HandleSeconds, err = strconv.ParseFloat(v, 64); err != nil {
			return a, fmt.Errorf("handle_seconds %q is not a number", v)
		}
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"known", &a.Known}, {"open", &a.Open}} {
		if v := get(b.name); v != "" {
			if *b.dst, err = strconv.ParseBool(v); err != nil {
				return a, fmt.Errorf("%s %q: use true or false", b.name, v)
			}
		}
	}
	return a, nil
}

func (a *Arrival) check() error {
	switch {
	case a.At.IsZero():
		return fmt.Errorf("at is required")
	case a.HandleSeconds < 0 || math.IsNaN(a.HandleSeconds) || math.IsInf(a.HandleSeconds, 0):
		return fmt.Errorf("handle_seconds must be zero or positive")
	}
	return nil
}

// FromRecorded turns a channel's recorded conversations into arrivals: at
// their creation, from their contact (known if it existed before), handled
// from their first assignment (or creation) until they were closed; those
// still open stay open.
func FromRecorded(rs []sb.RecordedConversation) []Arrival {
	out := make([]Arrival, 0, len(rs))
	for _, r := range rs {
		a := Arrival{ID: r.ID, At: r.CreatedAt, Contact: r.ContactID, Owner: r.ContactOwnerID, Known: r.ContactCreatedAt.Before(r.CreatedAt)}
		switch from := r.AssignedAt; {
		case r.ClosedAt.IsZero():
			a.Open = true
		case !from.IsZero() && !r.ClosedAt.Before(from):
			a.HandleSeconds = r.ClosedAt.Sub(from).Seconds()
		default:
			a.HandleSeconds = max(0, r.ClosedAt.Sub(r.CreatedAt).Seconds())
		}
		out = append(out, a)
	}
	return out
}

// Handling-time distributions of Poisson.
const (
	Exponential = "exponential"
	LogNormal   = "lognormal"
)

// Poisson describes synthetic arrivals: a Poisson process of RatePerHour
// over [From, From+Duration), each from a new contact, each handled for a
// time drawn from Distribution with mean HandleMean (LogNormal's spread is
// Sigma, default 1).
type Poisson struct {
	From         time.Time     `json:"from"`
	Duration     time.Duration `json:"-"`
	Hours        float64       `json:"hours"`
	RatePerHour  float64       `json:"rate_per_hour"`
	HandleMean   time.Duration `json:"-"`
	HandleSecs   float64       `json:"handle_mean_seconds"`
	Distribution string        `json:"distribution,omitempty"`
	Sigma        float64       `json:"sigma,omitempty"`
	Seed         uint64        `json:"seed,omitempty"`
}

// Period returns the stream's [From, From+duration).
func (p Poisson) Period() (from, to time.Time) {
	dur := p.Duration
	if dur == 0 {
		dur = time.Duration(p.Hours * float64(time.Hour))
	}
	return p.From, p.From.Add(dur)
}

// maxSynthetic bounds a synthetic stream.
const maxSynthetic = 2_000_000

// Arrivals draws the stream; the same Seed gives the same stream. Invalid
// for a non-positive rate, duration or mean, an unknown distribution, or
// more than two million expected arrivals.
func (p Poisson) Arrivals() ([]Arrival, error) {
	const op = "simulate.Poisson"
	dur, mean := p.Duration, p.HandleMean
	if dur == 0 {
		dur = time.Duration(p.Hours * float64(time.Hour))
	}
	if mean == 0 {
		mean = time.Duration(p.HandleSecs * float64(time.Second))
	}
	sigma := p.Sigma
	if sigma == 0 {
		sigma = 1
	}
	switch {
	case !(p.RatePerHour > 0):
		return nil, sb.Invalidf(op, "rate_per_hour", "the arrival rate must be positive")
	case dur <= 0:
		return nil, sb.Invalidf(op, "hours", "the duration must be positive")
	case mean <= 0:
		return nil, sb.Invalidf(op, "handle_mean_seconds", "the mean handling time must be positive")
	case p.RatePerHour*dur.Hours() > maxSynthetic:
		return nil, sb.Invalidf(op, "rate_per_hour", "%.0f arrivals expected; at most %d", p.RatePerHour*dur.Hours(), maxSynthetic)
	case sigma < 0 || sigma > 5:
		return nil, sb.Invalidf(op, "sigma", "sigma must be between 0 and 5")
	}
	var draw func(r *rand.Rand) float64
	m := mean.Seconds()
	switch p.Distribution {
	case "", Exponential:
		draw = func(r *rand.Rand) float64 { return r.ExpFloat64() * m }
	case LogNormal:
		mu := math.Log(m) - sigma*sigma/2 // so that the mean is m
		draw = func(r *rand.Rand) float64 { return math.Exp(mu + sigma*r.NormFloat64()) }
	default:
		return nil, sb.Invalidf(op, "distribution", "unknown distribution %q: use exponential or lognormal", p.Distribution)
	}
	r := rand.New(rand.NewPCG(p.Seed, p.Seed^0x5851f42d4c957f2d))
	perSec := p.RatePerHour / 3600
	out := make([]Arrival, 0, int(p.RatePerHour*dur.Hours()*1.05)+16)
	t := 0.0
	end := dur.Seconds()
	for {
		t += r.ExpFloat64() / perSec
		if t >= end {
			return out, nil
		}
		at := p.From.Add(time.Duration(t * float64(time.Second))).Truncate(time.Microsecond)
		out = append(out, Arrival{At: at, HandleSeconds: draw(r)}) // a new contact each time
	}
}
