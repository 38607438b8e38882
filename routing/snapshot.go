package routing

import (
	"math"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// Snapshot is the account at one instant: its users with their load, its
// teams and inboxes, and each user's effective status at that instant
// (R-X1), with users indexed densely for the hot path. Assigned and
// Released keep its load current across a batch of decisions.
//
// NewSnapshot copies the load fields (OpenChats, LastChatAssignedAt) and
// never modifies the users, teams or inboxes it is given; they must not be
// modified during the snapshot's life. A Snapshot and its Pools are not
// safe for concurrent use.
type Snapshot struct {
	now     time.Time
	users   []*sb.User
	hot     []hotUser  // load, per dense index
	lasts   []int64    // LastChatAssignedAt as a sort key, per dense index; never = math.MinInt64
	flags   []uint8    // flag*, per dense index; fixed for the snapshot's life
	cold    []coldUser // what records read, per dense index
	index   map[string]int32
	teams   map[string]*sb.Team
	inboxes map[string]*sb.Inbox
	access  map[string][]bool // inbox id -> access per dense index
	pools   map[string]*Pool  // channel id -> compiled rule
	log     []loadChange      // previous load values, one per change
	// weights is R-X5's setting when it is on: load and capacity are then
	// in units. Nil: open chat-like conversations, as R-A9/R-A10 say.
	weights *sb.RoutingWeights
	zones   zoneCache
	until   time.Time // the earliest instant a user's flags may change (Advance); zero: never
}

// hotUser is a user's load, packed for the candidate loops.
type hotUser struct {
	open  int32 // OpenChats, or units with weights (R-X5)
	limit int32 // ChatCapacity (or capacity in units), or math.MaxInt32 for no limit
}

const (
	flagSeat        uint8 = 1 << 0               // has a paid seat (R-A2)
	flagAway        uint8 = 1 << 1               // effective status is away (R-X1)
	flagRecentShift       = 2                    // see flagRecent
	flagRecent      uint8 = 1 << flagRecentShift // active within ActiveWindow of now (R-A9)
	flagStatic      uint8 = 1 << 7               // in a pool's member: it has a static drop
)

// coldUser is what the decision record shows besides the hot fields.
type coldUser struct {
	status       sb.Status
	why          sb.StatusReason
	lastAssigned time.Time
}

// loadChange is a user's load before one Assigned or Released, so that a
// record can show the load as it was when its decision was made.
type loadChange struct {
	idx          int32
	open         int32
	lastAssigned time.Time
}

// NewSnapshot builds the snapshot of an account at now. Nil entries are
// skipped; of two users with the same id the first is kept.
func NewSnapshot(now time.Time, users []*sb.User, teams []*sb.Team, inboxes []*sb.Inbox) *Snapshot {
	return NewWeightedSnapshot(now, users, teams, inboxes, nil, nil)
}

// NewWeightedSnapshot is NewSnapshot with R-X5's weighted capacity: when w
// is on, each user's load is units[user id] (the sum of w's costs over
// their open assigned conversations, see Units) and their capacity is
// w.CapacityOf(user); least-busy (R-A9) and capacity (R-A10) then count
// units. A nil or disabled w gives NewSnapshot's snapshot and ignores
// units. w and units must not be modified during the snapshot's life.
func NewWeightedSnapshot(now time.Time, users []*sb.User, teams []*sb.Team, inboxes []*sb.Inbox, w *sb.RoutingWeights, units map[string]int) *Snapshot {
	s := &Snapshot{
		now:     now,
		users:   make([]*sb.User, 0, len(users)),
		hot:     make([]hotUser, 0, len(users)),
		lasts:   make([]int64, 0, len(users)),
		flags:   make([]uint8, 0, len(users)),
		cold:    make([]coldUser, 0, len(users)),
		index:   make(map[string]int32, len(users)),
		teams:   make(map[string]*sb.Team, len(teams)),
		inboxes: make(map[string]*sb.Inbox, len(inboxes)),
		access:  make(map[string][]bool),
		pools:   make(map[string]*Pool),
		zones:   zoneCache{},
	}
	if w != nil && w.Enabled {
		s.weights = w
	}
	for _, u := range users {
		if u == nil {
			continue
		}
		if _, dup := s.index[u.ID]; dup {
			continue
		}
		h := hotUser{open: clamp32(u.OpenChats), limit: math.MaxInt32}
		capacity := u.ChatCapacity
		if s.weights != nil {
			h.open, capacity = clamp32(units[u.ID]), s.weights.CapacityOf(u)
		}
		if capacity > 0 {
			h.limit = clamp32(capacity)
		}
		var f uint8
		if u.PaidSeat {
			f |= flagSeat
		}
		s.index[u.ID] = int32(len(s.users))
		s.users = append(s.users, u)
		s.hot = append(s.hot, h)
		s.lasts = append(s.lasts, timeKey(u.LastChatAssignedAt))
		s.flags = append(s.flags, f)
		s.cold = append(s.cold, coldUser{lastAssigned: u.LastChatAssignedAt})
	}
	s.timeFlags()
	for _, t := range teams {
		if t != nil {
			s.teams[t.ID] = t
		}
	}
	for _, in := range inboxes {
		if in != nil {
			s.inboxes[in.ID] = in
		}
	}
	return s
}

// Units sums a user's open conversations per kind into units by w's costs
// (R-X5), for NewWeightedSnapshot.
func Units(w *sb.RoutingWeights, loads []sb.KindLoad) map[string]int {
	m := make(map[string]int)
	for _, l := range loads {
		m[l.UserID] += l.Open * w.Cost(l.Kind)
	}
	return m
}

// timeFlags sets every user's time-dependent flags (effective status,
// R-X1; recent activity, R-A9) at s.now, and s.until, the earliest later
// instant one of them may change. It reports whether any flag changed.
func (s *Snapshot) timeFlags() bool {
	changed := false
	var until time.Time
	soon := func(t time.Time) {
		if t.After(s.now) && (until.IsZero() || t.Before(until)) {
			until = t
		}
	}
	for i, u := range s.users {
		st, why := effectiveStatus(u, s.now, s.zones)
		f := s.flags[i] &^ (flagAway | flagRecent)
		if st == sb.Away {
			f |= flagAway
		}
		if !u.LastActiveAt.IsZero() && s.now.Sub(u.LastActiveAt) <= ActiveWindow {
			f |= flagRecent
		}
		changed = changed || f != s.flags[i]
		s.flags[i] = f
		s.cold[i].status, s.cold[i].why = st, why
		if !u.LastActiveAt.IsZero() {
			soon(u.LastActiveAt)
			soon(u.LastActiveAt.Add(ActiveWindow + 1))
		}
		if u.Status == sb.Away {
			continue // a manual away holds whatever the time
		}
		for _, r := range u.OutOfOffice {
			soon(r.From)
			soon(r.To)
		}
		if len(u.WorkingHours.Ranges) > 0 {
			// Working hours are whole minutes on a wall clock whose
			// offset from UTC is whole minutes.
			soon(s.now.Truncate(time.Minute).Add(time.Minute))
		}
	}
	s.until = until
	return changed
}

// NextChange returns the earliest instant after Now() at which a user's
// effective status or recent activity may change (zero: never), so that a
// replay can Advance to it when something waits for a user to come back.
func (s *Snapshot) NextChange() time.Time { return s.until }

// Advance moves the snapshot to a later instant now, keeping its load and
// everything else, for callers that replay time such as the dry run
// (R-X6). Effective statuses (R-X1) and recent activity (R-A9) are
// recomputed only when one may have changed since the last instant, so
// that advancing by small steps costs little; compiled pools follow.
// It reports whether any user's status or recent activity changed. Results
// decided before Advance must not be recorded after it. An earlier now
// than Now() is ignored.
func (s *Snapshot) Advance(now time.Time) bool {
	if now.Before(s.now) {
		return false
	}
	s.now = now
	s.log = s.log[:0]
	if s.until.IsZero() || now.Before(s.until) {
		return false
	}
	if !s.timeFlags() {
		return false
	}
	for _, p := range s.pools {
		p.refreshFlags()
	}
	return true
}

// Now returns the instant the snapshot describes.
func (s *Snapshot) Now() time.Time { return s.now }

// Effective returns the effective status of userID at Now() and its reason
// (R-X1); ok is false for an unknown user.
func (s *Snapshot) Effective(userID string) (st sb.Status, why sb.StatusReason, ok bool) {
	i := s.lookup(userID)
	if i < 0 {
		return "", "", false
	}
	return s.cold[i].status, s.cold[i].why, true
}

// CanAccess reports whether userID may see inboxID (R-I4); false for an
// unknown inbox or user.
func (s *Snapshot) CanAccess(inboxID, userID string) bool {
	i := s.lookup(userID)
	if i < 0 {
		return false
	}
	return s.accessTo(inboxID)[i]
}

// Assigned records that userID got a conversation of kind k at Now(), so
// that the next decision of the batch sees it (R-A9, R-A10): for a
// chat-like kind OpenChats+1 and LastChatAssignedAt = Now(); with weights
// (R-X5) the load grows by the kind's cost instead. Unknown users and
// kinds that count nothing change nothing.
func (s *Snapshot) Assigned(userID string, k sb.ChannelKind) {
	i := s.lookup(userID)
	add := s.cost(k)
	if i < 0 || (add == 0 && !k.ChatLike()) {
		return
	}
	s.remember(i)
	s.hot[i].open = clamp32(int(s.hot[i].open) + int(add))
	if k.ChatLike() {
		s.lasts[i] = timeKey(s.now)
		s.cold[i].lastAssigned = s.now
	}
}

// Released records that userID lost an open conversation of kind k: for a
// chat-like kind OpenChats-1, with weights (R-X5) the kind's cost; never
// below 0. Unknown users and kinds that count nothing change nothing.
func (s *Snapshot) Released(userID string, k sb.ChannelKind) {
	i := s.lookup(userID)
	sub := s.cost(k)
	if i < 0 || sub == 0 || s.hot[i].open == 0 {
		return
	}
	s.remember(i)
	s.hot[i].open = max(0, s.hot[i].open-sub)
}

// Load returns userID's current load (open chat-like conversations, or
// units with weights) and capacity (0: no limit); ok is false for an
// unknown user.
func (s *Snapshot) Load(userID string) (load, capacity int, ok bool) {
	i := s.lookup(userID)
	if i < 0 {
		return 0, 0, false
	}
	return int(s.hot[i].open), s.capacity(i), true
}

// Weighted reports whether load and capacity are in units (R-X5).
func (s *Snapshot) Weighted() bool { return s.weights != nil }

// cost is what one open conversation of kind k adds to a load: 1 for a
// chat-like kind and 0 otherwise, or the kind's cost with weights.
func (s *Snapshot) cost(k sb.ChannelKind) int32 {
	if s.weights != nil {
		return clamp32(s.weights.Cost(k))
	}
	if k.ChatLike() {
		return 1
	}
	return 0
}

// capacity is user i's capacity as records show it; 0 means no limit.
func (s *Snapshot) capacity(i int32) int {
	if l := s.hot[i].limit; l != math.MaxInt32 {
		return int(l)
	}
	return 0
}

// remember logs user i's load before a change.
func (s *Snapshot) remember(i int32) {
	s.log = append(s.log, loadChange{idx: i, open: s.hot[i].open, lastAssigned: s.cold[i].lastAssigned})
}

// loadsAt returns, for every user whose load changed since the log had
// length ver, the load they had then.
func (s *Snapshot) loadsAt(ver int) map[int32]loadChange {
	if ver >= len(s.log) {
		return nil
	}
	m := make(map[int32]loadChange)
	for i := len(s.log) - 1; i >= ver; i-- {
		m[s.log[i].idx] = s.log[i]
	}
	return m
}

// lookup returns the dense index of userID, or -1.
func (s *Snapshot) lookup(userID string) int32 {
	if i, ok := s.index[userID]; ok {
		return i
	}
	return -1
}

// accessTo returns R-I4's access to inboxID per dense index, computed once
// per inbox. Nobody has access to an unknown inbox.
func (s *Snapshot) accessTo(inboxID string) []bool {
	if a, ok := s.access[inboxID]; ok {
		return a
	}
	a := make([]bool, len(s.users))
	in := s.inboxes[inboxID]
	switch {
	case in == nil:
	case len(in.TeamIDs) == 0:
		for i := range a {
			a[i] = true
		}
	default:
		for _, tid := range in.TeamIDs {
			t := s.teams[tid]
			if t == nil {
				continue
			}
			for _, ids := range [2][]string{t.MainMemberIDs, t.ExtraMemberIDs} {
				for _, id := range ids {
					if i := s.lookup(id); i >= 0 {
						a[i] = true
					}
				}
			}
		}
	}
	s.access[inboxID] = a
	return a
}

// name is how a sentence names user i: their name, else their id.
func (s *Snapshot) name(i int32) string {
	if u := s.users[i]; u.Name != "" {
		return u.Name
	}
	return s.users[i].ID
}

// timeKey orders times as int64, the zero time (never) first.
func timeKey(t time.Time) int64 {
	switch {
	case t.IsZero():
		return math.MinInt64
	case t.Year() < 1680:
		return math.MinInt64 + 1
	case t.Year() > 2260:
		return math.MaxInt64
	}
	return t.UnixNano()
}

func clamp32(n int) int32 {
	switch {
	case n > math.MaxInt32:
		return math.MaxInt32
	case n < math.MinInt32:
		return math.MinInt32
	}
	return int32(n)
}
