package routing

import (
	"strconv"
	"time"
)

// dropPhrases says, in the singular and the plural, why candidates were
// dropped, as the end of "<who> ...".
var dropPhrases = [nDrop][2]string{
	dUnknown:    {"no longer exists", "no longer exist"},
	dExcluded:   {"was already tried", "were already tried"},
	dNoSeat:     {"has no paid seat", "have no paid seat"},
	dNoAccess:   {"has no access to this inbox", "have no access to this inbox"},
	dNotOnStep:  {"is not on the bot's hand-over step", "are not on the bot's hand-over step"},
	dAway:       {"is away", "are away"},
	dAtCapacity: {"is at capacity", "are at capacity"},
	dDuplicate:  {"is listed twice", "are listed twice"},
}

// activeMinutes is ActiveWindow in minutes, for sentences.
var activeMinutes = strconv.Itoa(int(ActiveWindow / time.Minute))

// reason writes res's sentence into the pool's buffer and returns it as a
// string: the one allocation of Decide.
func (p *Pool) reason(res *Result) string {
	b := p.buf[:0]
	if res.prevTried {
		name := p.userName(res.prevIdx, res.arr.Previous)
		if res.path == pathPrevious {
			b = append(b, "Assigned to "...)
			b = append(b, name...)
			b = append(b, ", the previous assignee, who can still take it."...)
			return p.finish(b)
		}
		b = append(b, "The previous assignee, "...)
		b = append(b, name...)
		b = append(b, ", "...)
		b = append(b, dropPhrases[res.prevDrop][0]...)
		b = append(b, ", so it was routed afresh. "...)
	}
	switch res.path {
	case pathOff:
		if p.rule.Enabled {
			b = append(b, "The channel's rule assigns nobody, so it stays in Unassigned."...)
		} else {
			b = append(b, "Automatic assignment is off for this channel, so it stays in Unassigned."...)
		}
	case pathList:
		b = p.listReason(b, res, "the rule")
	case pathOwner:
		b = p.ownerReason(b, res)
	}
	return p.finish(b)
}

func (p *Pool) finish(b []byte) string {
	p.buf = b
	return string(b)
}

// ownerReason explains contact-owner routing and its fallback (R-A8).
func (p *Pool) ownerReason(b []byte, res *Result) []byte {
	switch res.fb {
	case fbNotUsed:
		b = append(b, "Assigned to the contact owner, "...)
		b = append(b, p.userName(res.ownerIdx, "")...)
		if res.NotifyOwner {
			return append(b, ", who is away and will be notified by email."...)
		}
		return append(b, '.')
	case fbNewContact:
		b = append(b, "The contact is new or not identified, so the fallback applies. "...)
	case fbNoOwner:
		b = append(b, "The contact has no owner, so the fallback applies. "...)
	case fbOwnerIneligible:
		b = append(b, "The contact owner, "...)
		b = append(b, p.userName(res.ownerIdx, res.arr.Contact.OwnerID)...)
		b = append(b, ", "...)
		b = append(b, dropPhrases[res.ownerDrop][0]...)
		b = append(b, ", so the fallback applies. "...)
	}
	if res.traced == listNone {
		if res.Retry {
			return append(b, "The fallback assigns nobody, so it waits for the owner to become free."...)
		}
		return append(b, "The fallback assigns nobody, so it stays in Unassigned."...)
	}
	return p.listReason(b, res, "the fallback")
}

// listReason explains a pick from a candidate list, or why nobody was
// picked; source names the list ("the rule", "the fallback").
func (p *Pool) listReason(b []byte, res *Result, source string) []byte {
	needAvail := p.needAvail(res.arr)
	switch {
	case res.Strategy == StrategyFixedUser:
		return p.fixedReason(b, res)
	case res.winner >= 0 && res.Strategy == StrategyLeastBusy:
		return p.leastBusyReason(b, res)
	case res.winner >= 0 && res.remaining == 1:
		b = append(b, "Assigned to "...)
		b = append(b, p.s.name(res.winner)...)
		if needAvail {
			return append(b, ", the only available candidate."...)
		}
		return append(b, ", the only candidate left."...)
	case res.winner >= 0:
		b = append(b, "Assigned at random to "...)
		b = append(b, p.s.name(res.winner)...)
		b = append(b, " among "...)
		b = strconv.AppendInt(b, int64(res.remaining), 10)
		if needAvail {
			return append(b, " available candidates."...)
		}
		return append(b, " candidates."...)
	}
	return p.nobodyReason(b, res, source)
}

// fixedReason explains the fallback user's pick or miss (R-A8).
func (p *Pool) fixedReason(b []byte, res *Result) []byte {
	if len(p.fbList) == 0 {
		return append(b, "No fallback user is set, so it stays in Unassigned."...)
	}
	if res.winner >= 0 {
		b = append(b, "Assigned to the fallback user, "...)
		b = append(b, p.s.name(res.winner)...)
		return append(b, '.')
	}
	b = append(b, "The fallback user, "...)
	b = append(b, p.memberName(p.fbList[0].idx)...)
	b = append(b, ", "...)
	for d := dUnknown; d < nDrop; d++ {
		if res.counts[d] > 0 {
			b = append(b, dropPhrases[d][0]...)
			break
		}
	}
	if res.Retry {
		return append(b, ", so it waits until they become free."...)
	}
	return append(b, ", so it stays in Unassigned."...)
}

// nobodyReason counts the candidates dropped per reason, e.g. "Nobody
// could take it: 2 candidates are away and 1 is at capacity; it waits for
// the first to become free."
func (p *Pool) nobodyReason(b []byte, res *Result, source string) []byte {
	b = append(b, "Nobody could take it: "...)
	kinds := 0
	for d := dUnknown; d < nDrop; d++ {
		if res.counts[d] > 0 {
			kinds++
		}
	}
	if kinds == 0 {
		b = append(b, source...)
		return append(b, " names no users or team main members, so it stays in Unassigned."...)
	}
	seen := 0
	for d := dUnknown; d < nDrop; d++ {
		n := res.counts[d]
		if n == 0 {
			continue
		}
		switch {
		case seen == 0:
		case seen == kinds-1:
			b = append(b, " and "...)
		default:
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, int64(n), 10)
		if seen == 0 {
			b = append(b, plural(n, " candidate ", " candidates ")...)
		} else {
			b = append(b, ' ')
		}
		b = append(b, dropPhrases[d][pluralIndex(n)]...)
		seen++
	}
	if res.Retry {
		return append(b, "; it waits for the first to become free."...)
	}
	return append(b, "; it stays in Unassigned."...)
}

// leastBusyReason explains R-A9's pick and the tie-break that decided it.
func (p *Pool) leastBusyReason(b []byte, res *Result) []byte {
	name := p.s.name(res.winner)
	h := p.s.hot[res.winner]
	b = append(b, "Least busy: "...)
	b = append(b, name...)
	if res.remaining == 1 {
		b = append(b, " is the only candidate left and has "...)
		b = p.appendLoad(b, h.open)
		return append(b, '.')
	}
	b = append(b, " has "...)
	b = p.appendLoad(b, h.open)
	if res.TieBreak == "" {
		if res.remaining == 2 {
			return append(b, ", fewer than the other candidate."...)
		}
		b = append(b, ", fewer than the "...)
		b = strconv.AppendInt(b, int64(res.remaining-1), 10)
		return append(b, " other candidates."...)
	}
	others := res.tied[0] - 1
	b = append(b, plural(others, ", as does ", ", as do ")...)
	b = strconv.AppendInt(b, int64(others), 10)
	b = append(b, plural(others, " other", " others")...)
	switch res.TieBreak {
	case TieRecentlyActive:
		b = append(b, "; only "...)
		b = append(b, name...)
		b = append(b, " was active in the inbox in the last "...)
		b = append(b, activeMinutes...)
		return append(b, " minutes."...)
	case TieLeastRecentlyAssigned:
		b = append(b, "; "...)
		if res.tied[1] < res.tied[0] {
			b = append(b, "of those active in the inbox in the last "...)
			b = append(b, activeMinutes...)
			b = append(b, " minutes, "...)
		}
		if p.s.lasts[res.winner] == timeKey(time.Time{}) {
			b = append(b, "only "...)
			b = append(b, name...)
			return append(b, " has never been assigned a chat."...)
		}
		b = append(b, name...)
		return append(b, " was assigned a chat longest ago."...)
	}
	b = append(b, ", with the same recent activity and last assignment; "...)
	b = append(b, name...)
	return append(b, " comes first in the rule."...)
}

// appendLoad writes a load: "1 open chat" or "n open chats", or with
// weights (R-X5) "n units" with the capacity when there is one.
func (p *Pool) appendLoad(b []byte, n int32) []byte {
	if p.s.weights == nil {
		return appendChats(b, n)
	}
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, plural(n, " unit of load", " units of load")...)
}

// appendChats writes "1 open chat" or "n open chats".
func appendChats(b []byte, n int32) []byte {
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, plural(n, " open chat", " open chats")...)
}

func plural(n int32, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func pluralIndex(n int32) int {
	if n == 1 {
		return 0
	}
	return 1
}

// userName names user i for a sentence, or id when i is unknown.
func (p *Pool) userName(i int32, id string) string {
	if i >= 0 {
		return p.s.name(i)
	}
	return id
}

// memberName names a list member, ghosts by their id.
func (p *Pool) memberName(i int32) string {
	if i >= 0 {
		return p.s.name(i)
	}
	return p.ghosts[-i-1]
}
