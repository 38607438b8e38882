package routing

import (
	sb "github.com/switchboard-dev/switchboard"
)

// Pool is a channel's routing rule compiled against a Snapshot: its
// candidates resolved to dense indexes in rule order, and the scratch
// space Decide reuses so that it allocates nothing per candidate. Get one
// from Snapshot.Pool. Not safe for concurrent use.
type Pool struct {
	s        *Snapshot
	rule     sb.RoutingRule
	chatLike bool
	// capped: capacity applies to this kind (R-A10: chat-like kinds; with
	// weights, R-X5: every kind with a cost); need is what one more
	// conversation adds to a load (1, or the kind's cost in units).
	capped bool
	need   int32
	access []bool   // R-I4 access to the channel's inbox, per dense index
	vias   []string // via names, indexed by member.via
	ghosts []string // ids the rule names that are not users; member.idx -(k+1)
	list   []member // mode specific: the rule's candidates
	fbList []member // mode contact_owner: the fallback's candidates

	// Scratch, reused by every Decide and Eligible.
	gen       uint32
	exStamp   []uint32 // exStamp[i] == gen: user i is in Arrival.Exclude
	stepStamp []uint32 // stepStamp[i] == gen: user i is on the bot step
	hasEx     bool     // the arrival excludes someone
	hasStep   bool     // the arrival has a bot step
	pick      []int32
	buf       []byte
}

// member is one entry of a compiled candidate list.
type member struct {
	idx int32  // dense user index; negative: pool.ghosts[-idx-1]
	via uint16 // index into pool.vias
	// flags are the user's flag*, plus flagStatic when static is set, so
	// that the candidate loops test both with one mask.
	flags uint8
	// static is the drop that holds for the snapshot's life whatever the
	// arrival: dDuplicate (listed before, directly or through another
	// team), dUnknown, dNoSeat, dNoAccess, or dNone.
	static uint8
}

// The fixed via names, in the order of Pool.vias; team vias follow.
const (
	viaUser uint16 = iota
	viaOwner
	viaFallbackUser
	viaPrevious
)

// Drop codes, in the order the filters apply (R-A12).
const (
	dNone uint8 = iota
	dDuplicate
	dUnknown
	dExcluded
	dNoSeat
	dNoAccess
	dNotOnStep
	dAway
	dAtCapacity
	nDrop
)

// dropNames maps drop codes to the stable sb.Drop* strings.
var dropNames = [nDrop]string{
	dDuplicate:  sb.DropDuplicate,
	dUnknown:    sb.DropUnknownUser,
	dExcluded:   sb.DropExcluded,
	dNoSeat:     sb.DropNoSeat,
	dNoAccess:   sb.DropNoInboxAccess,
	dNotOnStep:  sb.DropNotOnStep,
	dAway:       sb.DropAway,
	dAtCapacity: sb.DropAtCapacity,
}

// Pool returns ch's routing rule compiled against s: named users, then the
// main members of the named teams in order (R-A5, R-A6), each resolved to
// a dense index with its inbox access (R-A3, R-I4). It is cached by channel
// id for the snapshot's life, so a channel that changed must be passed
// after a new snapshot. A nil channel gets a pool that assigns nobody.
func (s *Snapshot) Pool(ch *sb.Channel) *Pool {
	if ch == nil {
		ch = &sb.Channel{}
	} else if p, ok := s.pools[ch.ID]; ok {
		return p
	}
	p := &Pool{
		s:         s,
		rule:      ch.Routing,
		chatLike:  ch.Kind.ChatLike(),
		need:      s.cost(ch.Kind),
		access:    s.accessTo(ch.InboxID),
		vias:      []string{"user", "owner", "fallback_user", "previous_assignee"},
		exStamp:   make([]uint32, len(s.users)),
		stepStamp: make([]uint32, len(s.users)),
	}
	p.capped = p.need > 0
	r := p.rule
	if r.Mode == sb.ModeSpecific {
		p.list = p.compile(r.UserIDs, r.TeamIDs, viaUser)
	}
	if r.Mode == sb.ModeContactOwner {
		switch r.Fallback.Mode {
		case sb.FallbackSpecific:
			p.fbList = p.compile(r.Fallback.UserIDs, r.Fallback.TeamIDs, viaUser)
		case sb.FallbackUser:
			p.fbList = p.compile([]string{r.Fallback.UserID}, nil, viaFallbackUser)
		}
	}
	p.pick = make([]int32, 0, max(len(p.list), len(p.fbList)))
	p.buf = make([]byte, 0, 256)
	if ch.ID != "" {
		s.pools[ch.ID] = p
	}
	return p
}

// compile resolves userIDs (via userVia) then the main members of teamIDs
// into a candidate list. Empty ids and unknown teams give no entry.
func (p *Pool) compile(userIDs, teamIDs []string, userVia uint16) []member {
	seen := make(map[string]bool, len(userIDs))
	var list []member
	add := func(id string, via uint16) {
		if id == "" {
			return
		}
		m := member{idx: p.resolve(id), via: via}
		if m.idx >= 0 {
			m.flags = p.s.flags[m.idx]
		}
		switch {
		case seen[id]:
			m.static = dDuplicate
		case m.idx < 0:
			m.static = dUnknown
		case m.flags&flagSeat == 0:
			m.static = dNoSeat
		case !p.access[m.idx]:
			m.static = dNoAccess
		}
		if m.static != dNone {
			m.flags |= flagStatic
		}
		list = append(list, m)
		seen[id] = true
	}
	for _, id := range userIDs {
		add(id, userVia)
	}
	for _, tid := range teamIDs {
		t := p.s.teams[tid]
		if t == nil {
			continue
		}
		via := uint16(len(p.vias))
		p.vias = append(p.vias, "team:"+tid)
		for _, id := range t.MainMemberIDs {
			add(id, via)
		}
	}
	return list
}

// resolve returns id's dense index, or a ghost index for an unknown id.
func (p *Pool) resolve(id string) int32 {
	if i := p.s.lookup(id); i >= 0 {
		return i
	}
	for k, g := range p.ghosts {
		if g == id {
			return int32(-k - 1)
		}
	}
	p.ghosts = append(p.ghosts, id)
	return int32(-len(p.ghosts))
}

// prepare marks a's exclusions and bot step in the scratch stamps.
func (p *Pool) prepare(a Arrival) {
	p.gen++
	if p.gen == 0 {
		clear(p.exStamp)
		clear(p.stepStamp)
		p.gen = 1
	}
	p.hasEx = false
	for _, id := range a.Exclude {
		if i := p.s.lookup(id); i >= 0 {
			p.exStamp[i] = p.gen
			p.hasEx = true
		}
	}
	p.hasStep = a.StepUserIDs != nil
	for _, id := range a.StepUserIDs {
		if i := p.s.lookup(id); i >= 0 {
			p.stepStamp[i] = p.gen
		}
	}
}

// drop applies the candidate filters, in order, to user i with its current
// load and returns the first failing one (dNone if it passes). prepare
// must have run for the arrival.
func (p *Pool) drop(i int32, needAvail bool) uint8 {
	if i < 0 {
		return dUnknown
	}
	return p.dropAt(i, needAvail, p.s.hot[i].open)
}

// dropAt is drop with user i's open chat count given.
func (p *Pool) dropAt(i int32, needAvail bool, open int32) uint8 {
	f := p.s.flags[i]
	switch {
	case p.exStamp[i] == p.gen:
		return dExcluded
	case f&flagSeat == 0:
		return dNoSeat
	case !p.access[i]:
		return dNoAccess
	case p.hasStep && p.stepStamp[i] != p.gen:
		return dNotOnStep
	case needAvail && f&flagAway != 0:
		return dAway
	case p.full(open, p.s.hot[i].limit):
		return dAtCapacity
	}
	return dNone
}

// filter runs the candidate filters over list, in rule order, leaving the
// dense indexes of those still in the running in p.pick and counting the
// others per drop reason. It gives the same answers as drop, faster: the
// filters that cannot change during the snapshot's life were applied when
// the list was compiled, and a candidate that passes them, is not away and
// meets an arrival without exclusions or bot step costs one mask test.
func (p *Pool) filter(res *Result, list []member, needAvail bool) {
	hot := p.s.hot
	pick := p.pick[:0]
	mask := p.slowMask(needAvail)
	for j := range list {
		m := &list[j]
		if m.flags&mask != 0 {
			if d := p.memberDrop(m, needAvail); d != dNone {
				res.counts[d]++
				continue
			}
		}
		if p.full(hot[m.idx].open, hot[m.idx].limit) {
			res.counts[dAtCapacity]++
			continue
		}
		pick = append(pick, m.idx)
	}
	p.pick = pick
	res.remaining = int32(len(pick))
}

// full reports whether a user with this load and limit cannot take one
// more conversation of the pool's kind (R-A10; R-X5 in units).
func (p *Pool) full(open, limit int32) bool {
	return p.capped && open > limit-p.need
}

// refreshFlags copies the users' current flags into the compiled lists
// after Snapshot.Advance changed them.
func (p *Pool) refreshFlags() {
	for _, list := range [2][]member{p.list, p.fbList} {
		for j := range list {
			m := &list[j]
			if m.idx < 0 {
				continue
			}
			m.flags = p.s.flags[m.idx] | m.flags&flagStatic
		}
	}
}

// memberDrop applies to a list member every filter but capacity: its
// static drop, the arrival's exclusions and bot step, and availability.
func (p *Pool) memberDrop(m *member, needAvail bool) uint8 {
	switch d := m.static; {
	case d == dDuplicate || d == dUnknown:
		return d
	case p.hasEx && p.exStamp[m.idx] == p.gen:
		return dExcluded
	case d != dNone:
		return d
	case p.hasStep && p.stepStamp[m.idx] != p.gen:
		return dNotOnStep
	case needAvail && m.flags&flagAway != 0:
		return dAway
	}
	return dNone
}

// slowMask selects the member flags that send a candidate to memberDrop:
// a static drop always, being away when only available users may be
// picked, and any flag at all for an arrival with exclusions or a bot step
// (every member has one: flagSeat, or flagStatic for a missing seat).
func (p *Pool) slowMask(needAvail bool) uint8 {
	switch {
	case p.hasEx || p.hasStep:
		return 0xff
	case needAvail:
		return flagStatic | flagAway
	}
	return flagStatic
}

// needAvail reports whether only available users may be picked (R-A7, R-V3).
func (p *Pool) needAvail(a Arrival) bool {
	return p.rule.AvailableOnly() || a.ForceAvailable
}

// routes reports whether the rule assigns automatically at all (R-A1).
func (p *Pool) routes() bool {
	return p.rule.Enabled && (p.rule.Mode == sb.ModeSpecific || p.rule.Mode == sb.ModeContactOwner)
}

// ownerOf returns the contact owner R-A8 would route to, if any.
func ownerOf(a Arrival) string {
	if a.Contact == nil || !a.ContactKnown {
		return ""
	}
	return a.Contact.OwnerID
}

// Eligible reports whether Decide(a) could currently pick userID, and if
// not, why: the sb.Drop* reason of the filter userID fails, or
// sb.DropNotCandidate when the rule does not name them or someone else
// takes precedence (a previous assignee or contact owner who can take it).
// The backlog drain (R-X2) asks it of waiting conversations.
func (p *Pool) Eligible(userID string, a Arrival) (ok bool, dropped string) {
	p.prepare(a)
	u := p.s.lookup(userID)
	why := dUnknown
	if u >= 0 {
		why = dNone
	}
	if a.Previous != "" {
		d := p.drop(p.s.lookup(a.Previous), true)
		if d == dNone {
			return a.Previous == userID, dropNotCandidate(a.Previous != userID)
		}
		if a.Previous == userID {
			why = d
		}
	}
	if !p.routes() {
		return false, firstReason(why)
	}
	list := p.list
	if p.rule.Mode == sb.ModeContactOwner {
		if owner := ownerOf(a); owner != "" {
			d := p.drop(p.s.lookup(owner), a.ForceAvailable)
			if d == dNone {
				return owner == userID, dropNotCandidate(owner != userID)
			}
			if owner == userID {
				why = d
			}
		}
		list = p.fbList
	}
	for _, m := range list {
		if m.idx == u && u >= 0 && m.static != dDuplicate {
			d := p.drop(u, p.needAvail(a))
			return d == dNone, dropNames[d]
		}
	}
	return false, firstReason(why)
}

func dropNotCandidate(dropped bool) string {
	if dropped {
		return sb.DropNotCandidate
	}
	return ""
}

// firstReason is the reason Eligible gives for a user no list holds: the
// drop of an earlier phase, else not a candidate.
func firstReason(d uint8) string {
	if d == dNone {
		return sb.DropNotCandidate
	}
	return dropNames[d]
}
