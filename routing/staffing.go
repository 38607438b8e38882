package routing

import sb "github.com/switchboard-dev/switchboard"

// Staffing counts who could take a new conversation of a pool's channel
// right now, for a chat channel's availability (R-V4) and its at-capacity
// behaviour (R-A10) as the widget shows them.
type Staffing struct {
	// Candidates pass every filter but availability and capacity: seat
	// (R-A2), inbox access (R-A3, R-I4), the bot step (R-A4), exclusions.
	Candidates int `json:"candidates"`
	// Available are the candidates whose effective status is available
	// (R-V1, R-X1).
	Available int `json:"available"`
	// Free are the available candidates below their chat capacity (R-A10).
	Free int `json:"free"`
}

// Staffing reports how many of the rule's candidates for a are available
// and have capacity left. The candidates are those Decide would consider:
// the named users and the named teams' main members (mode specific); the
// owner of a known contact plus the fallback's users (mode contact_owner);
// and, when the rule assigns nobody automatically (routing off or mode
// unassigned), every user with access to the channel's inbox, since any
// of them may take the conversation from the Unassigned view. Each user
// counts once. It allocates nothing.
func (p *Pool) Staffing(a Arrival) Staffing {
	p.prepare(a)
	var st Staffing
	count := func(i int32, needSeat bool) {
		if i < 0 || (p.hasEx && p.exStamp[i] == p.gen) || !p.access[i] || (p.hasStep && p.stepStamp[i] != p.gen) {
			return
		}
		f := p.s.flags[i]
		if needSeat && f&flagSeat == 0 {
			return
		}
		st.Candidates++
		if f&flagAway != 0 {
			return
		}
		st.Available++
		if !p.chatLike || p.s.hot[i].open < p.s.hot[i].limit {
			st.Free++
		}
	}
	switch {
	case !p.routes():
		for i := range p.s.users {
			count(int32(i), false)
		}
	case p.rule.Mode == sb.ModeSpecific:
		for _, m := range p.list {
			if m.static != dDuplicate {
				count(m.idx, true)
			}
		}
	default:
		owner := p.s.lookup(ownerOf(a))
		count(owner, true)
		for _, m := range p.fbList {
			if m.static != dDuplicate && (m.idx != owner || owner < 0) {
				count(m.idx, true)
			}
		}
	}
	return st
}
