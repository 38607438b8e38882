package routing

import (
	"math"

	sb "github.com/switchboard-dev/switchboard"
)

// Strategies and tie-breaks named in results and records (R-A12).
const (
	StrategyRandom           = "random"
	StrategyLeastBusy        = "least_busy"
	StrategyOwner            = "owner"
	StrategyFixedUser        = "fixed_user"
	StrategyPreviousAssignee = "previous_assignee"
	StrategyNone             = "none"

	TieRecentlyActive        = "recently_active"
	TieLeastRecentlyAssigned = "least_recently_assigned"
	TieRuleOrder             = "rule_order"
)

// Result modes once the contact-owner fallback applied (R-A8).
const (
	ModeFallbackUser     = "fallback_" + sb.FallbackUser
	ModeFallbackSpecific = "fallback_" + sb.FallbackSpecific
	ModeFallbackNone     = "fallback_" + sb.FallbackNone
)

// Result is one routing decision. Record turns it into R-A12's record.
//
// A Result refers to its Pool and to the Arrival it was decided for; the
// slices of that Arrival (Exclude, StepUserIDs) and its Contact must not be
// modified until Record has been called.
type Result struct {
	Outcome    string // sb.OutcomeAssigned, sb.OutcomeUnassigned or sb.OutcomeWaiting
	AssigneeID string // the winner; empty unless Outcome is assigned
	// Mode is the rule's mode ("unassigned" when empty), or once the
	// fallback applied (R-A8) one of the ModeFallback* constants.
	Mode string
	// Strategy is how the winner was (or would have been) picked: one of
	// the Strategy* constants.
	Strategy string
	// TieBreak is the least-busy tie-break that decided (R-A9): "" when the
	// load alone decided, else one of the Tie* constants.
	TieBreak string
	// NotifyOwner is set when the conversation went to the contact owner
	// who is away: they should be told by email (R-A8).
	NotifyOwner bool
	// UsedFallback is set when contact-owner routing fell back (R-A8).
	UsedFallback bool
	// Retry is set when nobody was picked but a candidate was dropped only
	// for a temporary reason (away, at capacity): the conversation should
	// wait for the backlog drain (R-X2).
	Retry bool
	// Reason explains the outcome in plain English, naming users by name.
	Reason string

	pool       *Pool
	arr        Arrival
	ver        int   // length of the snapshot's load log at decision time
	path       uint8 // path*
	fb         uint8 // fb*: why the fallback applied
	traced     uint8 // which list was run: list*
	prevTried  bool
	ownerTried bool
	prevIdx    int32
	ownerIdx   int32
	prevDrop   uint8
	ownerDrop  uint8
	winner     int32
	remaining  int32        // candidates left in the running
	tied       [3]int32     // least busy: ties on load, +activity, +last assignment
	counts     [nDrop]int32 // drops per reason in the traced list
}

// Decision paths.
const (
	pathPrevious uint8 = iota + 1 // the previous assignee kept it (R-X4)
	pathOff                       // the rule is off or assigns nobody (R-A1, R-M1)
	pathList                      // mode specific (R-A6)
	pathOwner                     // mode contact_owner (R-A8)
)

// Why the contact-owner fallback applied.
const (
	fbNotUsed uint8 = iota
	fbNewContact
	fbNoOwner
	fbOwnerIneligible
)

// Candidate lists a Result may have run.
const (
	listNone uint8 = iota
	listRule
	listFallback
)

// Decide routes one arrival by the pool's rule: the previous assignee if
// they can still take it (R-X4), else nobody when the rule is off (R-A1,
// R-M1), else specific users and teams (R-A6: random for email and forms,
// least busy for chat-like kinds) or the contact owner with its fallback
// (R-A8). r is used only when the rule picks at random; a nil r picks the
// first candidate. Decide allocates nothing per candidate: its only
// allocation is the Reason string.
func (p *Pool) Decide(a Arrival, r Rand) Result {
	p.prepare(a)
	res := Result{
		Outcome:  sb.OutcomeUnassigned,
		Mode:     p.modeName(),
		Strategy: StrategyNone,
		pool:     p,
		arr:      a,
		ver:      len(p.s.log),
		prevIdx:  -1,
		ownerIdx: -1,
		winner:   -1,
	}
	switch {
	case a.Previous != "" && p.previous(&res, a):
	case !p.routes():
		res.path = pathOff
	case p.rule.Mode == sb.ModeSpecific:
		res.path = pathList
		p.run(&res, listRule, p.listStrategy(), p.needAvail(a), r)
	default:
		res.path = pathOwner
		p.owner(&res, a, r)
	}
	if res.winner < 0 && res.path != pathOff {
		p.settle(&res)
	}
	res.Reason = p.reason(&res)
	return res
}

// previous keeps a returning conversation with its previous assignee if
// they pass every filter, availability included (R-X4).
func (p *Pool) previous(res *Result, a Arrival) bool {
	res.prevTried = true
	res.prevIdx = p.s.lookup(a.Previous)
	res.prevDrop = p.drop(res.prevIdx, true)
	if res.prevDrop != dNone {
		return false
	}
	res.path = pathPrevious
	res.Strategy = StrategyPreviousAssignee
	res.assign(p, res.prevIdx)
	return true
}

// owner routes to the contact owner, away or not (R-A8), else applies the
// fallback.
func (p *Pool) owner(res *Result, a Arrival, r Rand) {
	switch {
	case a.Contact == nil || !a.ContactKnown:
		res.fb = fbNewContact
	case a.Contact.OwnerID == "":
		res.fb = fbNoOwner
	default:
		res.ownerTried = true
		res.Strategy = StrategyOwner
		res.ownerIdx = p.s.lookup(a.Contact.OwnerID)
		res.ownerDrop = p.drop(res.ownerIdx, a.ForceAvailable)
		if res.ownerDrop == dNone {
			res.assign(p, res.ownerIdx)
			res.NotifyOwner = p.s.flags[res.ownerIdx]&flagAway != 0
			return
		}
		res.fb = fbOwnerIneligible
	}
	res.UsedFallback = true
	switch p.rule.Fallback.Mode {
	case sb.FallbackUser:
		res.Mode = ModeFallbackUser
		p.run(res, listFallback, StrategyFixedUser, p.needAvail(a), r)
	case sb.FallbackSpecific:
		res.Mode = ModeFallbackSpecific
		p.run(res, listFallback, p.listStrategy(), p.needAvail(a), r)
	default:
		res.Mode = ModeFallbackNone
		res.Strategy = StrategyNone
	}
}

// run picks from a compiled list with the given strategy.
func (p *Pool) run(res *Result, which uint8, strategy string, needAvail bool, r Rand) {
	res.traced = which
	res.Strategy = strategy
	list := p.listOf(which)
	if strategy == StrategyLeastBusy {
		if w := p.leastBusy(res, list, needAvail); w >= 0 {
			res.assign(p, w)
		}
		return
	}
	p.filter(res, list, needAvail)
	switch n := len(p.pick); {
	case n == 0:
	case n == 1 || r == nil:
		res.assign(p, p.pick[0])
	default:
		k := r.IntN(n) // R-A6: uniform among the remaining
		if k < 0 || k >= n {
			k = 0
		}
		res.assign(p, p.pick[k])
	}
}

// leastBusy filters list as filter does and, in the same pass, applies
// R-A9: fewest open chats; then recently active; then least recently
// assigned a chat (never first); then rule order. It counts the ties to
// name the tie-break that decided.
func (p *Pool) leastBusy(res *Result, list []member, needAvail bool) int32 {
	hot, lasts := p.s.hot, p.s.lasts
	mask := p.slowMask(needAvail)
	best := int32(-1)
	bk := int64(math.MaxInt64) // open chats << 1 | not recently active
	var bLast int64
	var c1, c2, c3 int32 // equal to best on 1, 2, 3 criteria
	for j := range list {
		m := &list[j]
		if m.flags&mask != 0 {
			if d := p.memberDrop(m, needAvail); d != dNone {
				res.counts[d]++
				continue
			}
		}
		h := &hot[m.idx]
		if p.full(h.open, h.limit) {
			res.counts[dAtCapacity]++
			continue
		}
		k := int64(h.open)<<1 | int64(^m.flags>>flagRecentShift)&1
		switch {
		case k > bk:
			if k>>1 == bk>>1 {
				c1++
			}
		case k < bk:
			if k>>1 == bk>>1 {
				c1++
			} else {
				c1 = 1
			}
			best, bk, bLast = m.idx, k, lasts[m.idx]
			c2, c3 = 1, 1
		default:
			c1, c2 = c1+1, c2+1
			if last := lasts[m.idx]; last < bLast {
				best, bLast = m.idx, last
				c3 = 1
			} else if last == bLast {
				c3++
			}
		}
	}
	res.remaining = int32(len(list))
	for _, c := range res.counts {
		res.remaining -= c
	}
	res.tied = [3]int32{c1, c2, c3}
	switch {
	case c1 <= 1:
	case c2 == 1:
		res.TieBreak = TieRecentlyActive
	case c3 == 1:
		res.TieBreak = TieLeastRecentlyAssigned
	default:
		res.TieBreak = TieRuleOrder
	}
	return best
}

// settle sets Retry and the waiting outcome when nobody was picked (R-A7,
// R-A10, R-X2). The previous assignee's drop does not count: a returning
// conversation that missed them is routed afresh, not held for them.
func (p *Pool) settle(res *Result) {
	temp := res.counts[dAway] + res.counts[dAtCapacity]
	full := res.counts[dAtCapacity] > 0
	if res.ownerTried && (res.ownerDrop == dAway || res.ownerDrop == dAtCapacity) {
		temp++
		full = full || res.ownerDrop == dAtCapacity
	}
	res.Retry = temp > 0
	if p.chatLike && full {
		res.Outcome = sb.OutcomeWaiting
	}
}

func (res *Result) assign(p *Pool, i int32) {
	res.winner = i
	res.Outcome = sb.OutcomeAssigned
	res.AssigneeID = p.s.users[i].ID
}

func (p *Pool) listOf(which uint8) []member {
	switch which {
	case listRule:
		return p.list
	case listFallback:
		return p.fbList
	}
	return nil
}

// listStrategy is R-A6's strategy for the channel kind.
func (p *Pool) listStrategy() string {
	if p.chatLike {
		return StrategyLeastBusy
	}
	return StrategyRandom
}

// modeName is the rule's mode as results name it.
func (p *Pool) modeName() string {
	if p.rule.Mode == "" {
		return sb.ModeUnassigned
	}
	return p.rule.Mode
}
