// Package simulate is the dry run (R-X6): it replays a stream of arrivals
// through the live routing engine (routing.Snapshot, Pool.Decide,
// Assigned, Released) with a simulated clock, and reports who would have
// got what, the load spread, and how many would have waited and for how
// long. It changes nothing anywhere: it has no store, only its inputs.
//
// The replay follows the server's rules exactly: a conversation is routed
// when it arrives (R-A11), a returning contact goes to the previous
// assignee if still a candidate (R-X4), one that found no candidate only
// for a temporary reason waits (R-A10, R-X2), and it is given to the first
// user who frees capacity (when a conversation closes) or becomes
// available (working hours, out of office), oldest first. Randomness is
// seeded like app.Service's, so that the same seed gives the same picks.
package simulate

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// Rule is the routing rule to replay: a saved channel as the API returns
// it (GET /api/v1/channels/{id}) or a proposed one, e.g.
// {"name": "B", "kind": "chat", "routing": {"enabled": true, "mode": "specific", "team_ids": ["t1"]}}.
type Rule struct {
	ID      string         `json:"id,omitempty"`
	Name    string         `json:"name,omitempty"`
	InboxID string         `json:"inbox_id,omitempty"`
	Kind    sb.ChannelKind `json:"kind"`
	Routing sb.RoutingRule `json:"routing"`
}

// Validate reports what is wrong with the rule (Invalid), if anything.
func (r *Rule) Validate() error {
	if !r.Kind.Valid() {
		return sb.Invalidf("simulate.Rule", "kind", "unknown channel kind %q: use chat, email, messenger, whatsapp, form or calling", r.Kind)
	}
	switch r.Routing.Mode {
	case "", sb.ModeUnassigned, sb.ModeSpecific, sb.ModeContactOwner:
	default:
		return sb.Invalidf("simulate.Rule", "mode", "unknown routing mode %q", r.Routing.Mode)
	}
	return nil
}

// Arrival is one conversation of the stream: when it arrives, from whom,
// and how long it is handled once assigned.
type Arrival struct {
	// ID names the arrival in traces (a recorded conversation's id).
	ID string    `json:"id,omitempty"`
	At time.Time `json:"at"`
	// Contact identifies the contact: the same contact again is a returning
	// contact (R-X4), and is known (R-A8). Empty: a new contact each time.
	Contact string `json:"contact,omitempty"`
	// Owner is the contact's owner, for contact-owner rules (R-A8).
	Owner string `json:"owner,omitempty"`
	// Known marks a contact that existed before the stream began.
	Known bool `json:"known,omitempty"`
	// HandleSeconds is how long the conversation stays open once
	// assigned: its assignee's load lasts that long.
	HandleSeconds float64 `json:"handle_seconds"`
	// Open marks a conversation that was never closed: it keeps its
	// assignee's load to the end.
	Open bool `json:"open,omitempty"`
}

// Options tune a run.
type Options struct {
	// Seed seeds the random picks of email and form rules (R-A6), like
	// app.Config.Seed: the same seed gives the same result.
	Seed uint64
	// From and To bound the reported period; zero: the first arrival, the
	// last event.
	From, To time.Time
	// Buckets is how many samples the load-over-time series have
	// (default 96).
	Buckets int
}

// conversation states.
const (
	stNone       uint8 = iota
	stOpen             // assigned, not yet released
	stClosed           // released (or never assigned and let go)
	stWaiting          // waiting for capacity or availability (R-X2)
	stUnassigned       // no candidate and no reason to wait (R-M1)
	stContinued        // its contact's conversation was still open (R-A11)
)

// sim is one run's state.
type sim struct {
	snap    *routing.Snapshot
	ch      *sb.Channel
	rnd     *rand.Rand
	arr     []Arrival
	cost    int
	state   []uint8
	who     []int32     // agent index per arrival, -1 for none
	at      []time.Time // when it was assigned; for an unassigned one, when it is closed
	queue   []int32     // waiting arrivals, oldest first, from qhead
	qhead   int
	rel     releases
	latest  map[string]int32 // contact -> their latest arrival
	agents  []*AgentReport
	index   map[string]int32 // user id -> agent index
	open    []int32          // open conversations per agent
	since   []time.Time      // when the agent last became busy
	busy    []time.Duration
	changes []loadChange
	waits   []float64 // seconds waited by those drained later
	last    time.Time
}

type loadChange struct {
	at    int64 // unix nanoseconds
	agent int32
	load  int32
}

// Run replays arrivals (sorted by At, stably, if they are not) through
// rule with the roster and reports what happened. Invalid for a bad rule
// or roster.
func Run(rule *Rule, roster *Roster, arrivals []Arrival, opt Options) (*Report, error) {
	if err := rule.Validate(); err != nil {
		return nil, err
	}
	users, teams, inboxes, err := roster.build()
	if err != nil {
		return nil, err
	}
	if !slices.IsSortedFunc(arrivals, byTime) {
		arrivals = slices.Clone(arrivals)
		slices.SortStableFunc(arrivals, byTime)
	}
	ch := &sb.Channel{ID: "simulated", Kind: rule.Kind, Routing: rule.Routing, InboxID: rule.InboxID}
	if !hasInbox(inboxes, ch.InboxID) {
		ch.InboxID = openInbox.ID
		inboxes = append(inboxes, openInbox)
	}
	start := opt.From
	if start.IsZero() && len(arrivals) > 0 {
		start = arrivals[0].At
	}
	var w *sb.RoutingWeights
	if roster.Weights != nil && roster.Weights.Enabled {
		w = roster.Weights
	}
	seed := opt.Seed
	s := &sim{
		snap:   routing.NewWeightedSnapshot(start, users, teams, inboxes, w, nil),
		ch:     ch,
		rnd:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), // as app.New seeds it
		arr:    arrivals,
		state:  make([]uint8, len(arrivals)),
		who:    make([]int32, len(arrivals)),
		at:     make([]time.Time, len(arrivals)),
		latest: map[string]int32{},
		index:  make(map[string]int32, len(users)),
		open:   make([]int32, len(users)),
		since:  make([]time.Time, len(users)),
		busy:   make([]time.Duration, len(users)),
		last:   start,
	}
	if w != nil {
		s.cost = w.Cost(rule.Kind)
	}
	for i, u := range users {
		s.index[u.ID] = int32(i)
		s.agents = append(s.agents, &AgentReport{ID: u.ID, Name: u.Name})
	}
	s.run()
	rep := s.report(rule, w != nil, start, opt)
	rep.Roster = roster.Name
	return rep, nil
}

var openInbox = &sb.Inbox{ID: "simulated-inbox", Name: "Simulated"}

func hasInbox(ins []*sb.Inbox, id string) bool {
	return id != "" && slices.ContainsFunc(ins, func(in *sb.Inbox) bool { return in.ID == id })
}

func byTime(a, b Arrival) int { return a.At.Compare(b.At) }

// run processes arrivals and releases in time order; releases first when
// they are at the same instant as an arrival.
func (s *sim) run() {
	i := 0
	for i < len(s.arr) || s.rel.Len() > 0 {
		next := s.nextEvent(i)
		s.catchUp(next)
		if s.rel.Len() > 0 && (i == len(s.arr) || !s.rel[0].at.After(s.arr[i].At)) {
			r := heap.Pop(&s.rel).(release)
			s.advance(r.at)
			s.release(r.conv, r.at)
			continue
		}
		s.advance(s.arr[i].At)
		s.arrive(int32(i))
		i++
	}
}

// nextEvent is the time of the next release or arrival i.
func (s *sim) nextEvent(i int) time.Time {
	if s.rel.Len() > 0 && (i == len(s.arr) || !s.rel[0].at.After(s.arr[i].At)) {
		return s.rel[0].at
	}
	return s.arr[i].At
}

// catchUp advances through the instants before t at which someone may
// come back (working hours, out of office), while conversations wait for
// them: they are drained then, not at the next event (R-X2).
func (s *sim) catchUp(t time.Time) {
	for s.qhead < len(s.queue) {
		nc := s.snap.NextChange()
		if nc.IsZero() || !nc.Before(t) {
			return
		}
		s.advance(nc)
	}
}

// advance moves the clock; when someone's availability changed, waiting
// conversations are routed to whoever can now take them (R-X1, R-X2).
func (s *sim) advance(t time.Time) {
	if t.After(s.last) {
		s.last = t
	}
	if s.snap.Advance(t) {
		s.drainAll()
	}
}

// arrive routes arrival i as the server routes a new conversation.
func (s *sim) arrive(i int32) {
	a := &s.arr[i]
	s.who[i] = -1
	arr := routing.Arrival{Trigger: sb.TriggerCreated, ContactKnown: a.Known}
	if a.Contact != "" {
		arr.Contact = &sb.Contact{ID: a.Contact, OwnerID: a.Owner}
		if prev, ok := s.latest[a.Contact]; ok {
			if s.stillOpen(prev, a.At) {
				s.state[i] = stContinued // R-A11: a message in an open conversation
				return
			}
			arr.Trigger, arr.ContactKnown = sb.TriggerReturning, true
			if s.who[prev] >= 0 {
				arr.Previous = s.agents[s.who[prev]].ID
			}
		}
		s.latest[a.Contact] = i
	}
	res := s.snap.Pool(s.ch).Decide(arr, s.rnd)
	switch {
	case res.AssigneeID != "":
		s.give(i, res.AssigneeID, a.At)
	case res.Retry:
		s.state[i] = stWaiting
		s.queue = append(s.queue, i)
	default:
		s.state[i] = stUnassigned
		s.at[i] = a.At.Add(handle(a.HandleSeconds)) // when someone closes it
	}
}

// stillOpen reports whether arrival i's conversation is open at t: assigned
// and not yet released, waiting, or unassigned and not yet closed by
// hand (after its handling time, unless it was never closed).
func (s *sim) stillOpen(i int32, t time.Time) bool {
	switch s.state[i] {
	case stOpen, stWaiting:
		return true
	case stUnassigned:
		return s.arr[i].Open || t.Before(s.at[i])
	}
	return false
}

// give assigns arrival i to userID at t and schedules its release.
func (s *sim) give(i int32, userID string, t time.Time) {
	s.snap.Assigned(userID, s.ch.Kind)
	k := s.index[userID]
	s.state[i], s.who[i], s.at[i] = stOpen, k, t
	s.agents[k].Conversations++
	s.setOpen(k, s.open[k]+1, t)
	if a := &s.arr[i]; !a.Open {
		heap.Push(&s.rel, release{at: t.Add(handle(a.HandleSeconds)), conv: i})
	}
}

// release closes arrival i at t and drains the backlog to its assignee,
// whose capacity it freed (R-X2).
func (s *sim) release(i int32, t time.Time) {
	k := s.who[i]
	s.state[i] = stClosed
	id := s.agents[k].ID
	s.snap.Released(id, s.ch.Kind)
	s.setOpen(k, s.open[k]-1, t)
	s.drainTo(id)
}

// drainTo gives the oldest waiting conversations to userID while they are
// a candidate for them (R-X2). Every waiting conversation of the run has
// the same channel and a drain arrival carries no contact, so the oldest
// one decides for all.
func (s *sim) drainTo(userID string) {
	pool := s.snap.Pool(s.ch)
	for s.qhead < len(s.queue) {
		if ok, _ := pool.Eligible(userID, routing.Arrival{Trigger: sb.TriggerBacklogDrain}); !ok {
			return
		}
		s.drainOne(userID)
	}
}

// drainAll routes waiting conversations by the rule, oldest first, while
// someone can take them.
func (s *sim) drainAll() {
	pool := s.snap.Pool(s.ch)
	for s.qhead < len(s.queue) {
		res := pool.Decide(routing.Arrival{Trigger: sb.TriggerBacklogDrain}, s.rnd)
		if res.AssigneeID == "" {
			return
		}
		s.drainOne(res.AssigneeID)
	}
}

func (s *sim) drainOne(userID string) {
	i := s.queue[s.qhead]
	s.qhead++
	if s.qhead > 1024 && s.qhead*2 > len(s.queue) {
		s.queue = append(s.queue[:0], s.queue[s.qhead:]...)
		s.qhead = 0
	}
	now := s.snap.Now()
	s.waits = append(s.waits, now.Sub(s.arr[i].At).Seconds())
	s.give(i, userID, now)
}

// setOpen records agent k's open conversations from t on.
func (s *sim) setOpen(k, n int32, t time.Time) {
	switch {
	case s.open[k] == 0 && n > 0:
		s.since[k] = t
	case s.open[k] > 0 && n == 0:
		s.busy[k] += t.Sub(s.since[k])
	}
	s.open[k] = n
	if a := s.agents[k]; int(n) > a.PeakLoad {
		a.PeakLoad = int(n)
	}
	s.changes = append(s.changes, loadChange{at: t.UnixNano(), agent: k, load: n})
}

func handle(sec float64) time.Duration {
	if sec <= 0 {
		return 0
	}
	return time.Duration(sec * float64(time.Second)).Round(time.Microsecond) // what a store keeps
}

// release is a scheduled end of handling.
type release struct {
	at   time.Time
	conv int32
}

// releases is a min-heap by time, then arrival order.
type releases []release

func (r releases) Len() int { return len(r) }
func (r releases) Less(i, j int) bool {
	if c := r[i].at.Compare(r[j].at); c != 0 {
		return c < 0
	}
	return r[i].conv < r[j].conv
}
func (r releases) Swap(i, j int) { r[i], r[j] = r[j], r[i] }
func (r *releases) Push(x any)   { *r = append(*r, x.(release)) }
func (r *releases) Pop() any {
	old := *r
	x := old[len(old)-1]
	*r = old[:len(old)-1]
	return x
}

// String names an arrival for messages.
func (a Arrival) String() string {
	if a.ID != "" {
		return a.ID
	}
	return fmt.Sprintf("arrival at %s", a.At.Format(time.RFC3339))
}
