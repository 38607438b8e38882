package routing

import (
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// Record builds R-A12's record of the decision: everything but ID,
// AccountID, ConversationID, Trigger, ActorUserID and CreatedAt, which the
// caller fills. Candidates lists every user considered, in order: the
// previous assignee (R-X4), the contact owner (R-A8), then the rule's or
// the fallback's list in rule order, each with how they got there (Via),
// their effective status, load and capacity as they were when the decision
// was made (in units with weights, R-X5), and why they were dropped (empty for those still in the
// running; sb.DropOwnerAway for an away owner who kept it).
//
// The record is read from the snapshot the decision was made on, which may
// have seen Assigned and Released since; s is that snapshot and may be nil.
// Record allocates; call it off the hot path. Like Decide, it uses the
// pool's scratch space, so it must not run concurrently with other uses of
// the snapshot.
func (r Result) Record(s *Snapshot) sb.Decision {
	d := sb.Decision{
		Mode:         r.Mode,
		Strategy:     r.Strategy,
		Outcome:      r.Outcome,
		AssigneeID:   r.AssigneeID,
		Reason:       r.Reason,
		TieBreak:     r.TieBreak,
		NotifyOwner:  r.NotifyOwner,
		UsedFallback: r.UsedFallback,
	}
	p := r.pool
	if p == nil {
		return d
	}
	sn := p.s
	old := sn.loadsAt(r.ver)
	list := p.listOf(r.traced)
	d.Candidates = make([]sb.Candidate, 0, len(list)+2)
	if r.prevTried {
		d.Candidates = append(d.Candidates, p.candidate(r.prevIdx, r.arr.Previous, viaPrevious, dropNames[r.prevDrop], old))
	}
	if r.ownerTried {
		dropped := dropNames[r.ownerDrop]
		if r.ownerDrop == dNone && r.NotifyOwner {
			dropped = sb.DropOwnerAway
		}
		d.Candidates = append(d.Candidates, p.candidate(r.ownerIdx, r.arr.Contact.OwnerID, viaOwner, dropped, old))
	}
	if len(list) == 0 {
		return d
	}
	p.prepare(r.arr)
	needAvail := p.needAvail(r.arr)
	for _, m := range list {
		var drop uint8
		switch {
		case m.static == dDuplicate || m.idx < 0:
			drop = m.static
		default:
			open := sn.hot[m.idx].open
			if c, ok := old[m.idx]; ok {
				open = c.open
			}
			drop = p.dropAt(m.idx, needAvail, open)
		}
		id := ""
		if m.idx < 0 {
			id = p.ghosts[-m.idx-1]
		}
		d.Candidates = append(d.Candidates, p.candidate(m.idx, id, m.via, dropNames[drop], old))
	}
	trimTimes(&d)
	return d
}

// trimTimes drops the activity and assignment times of candidates they
// did not matter for, which keeps a large pool's record small: every
// candidate of a random pick, and the candidates a least-busy pick beat on
// load alone. The tie-broken ones keep them: they explain the winner.
func trimTimes(d *sb.Decision) {
	var minLoad = -1
	switch d.Strategy {
	case StrategyRandom:
	case StrategyLeastBusy:
		for _, c := range d.Candidates {
			if c.Dropped == "" && (minLoad < 0 || c.Load < minLoad) {
				minLoad = c.Load
			}
		}
	default:
		return
	}
	for i := range d.Candidates {
		c := &d.Candidates[i]
		if minLoad < 0 || c.Dropped != "" || c.Load > minLoad {
			c.LastActiveAt, c.LastAssigned = time.Time{}, time.Time{}
		}
	}
}

// candidate describes user i (or the unknown id) as the record shows it,
// with the load from old when it changed after the decision.
func (p *Pool) candidate(i int32, id string, via uint16, dropped string, old map[int32]loadChange) sb.Candidate {
	if i < 0 {
		return sb.Candidate{UserID: id, Via: p.vias[via], Dropped: dropped}
	}
	u := p.s.users[i]
	c := p.s.cold[i]
	load, last := p.s.hot[i].open, c.lastAssigned
	capacity := u.ChatCapacity
	if p.s.weights != nil {
		capacity = p.s.capacity(i) // R-X5: units
	}
	if o, ok := old[i]; ok {
		load, last = o.open, o.lastAssigned
	}
	return sb.Candidate{
		UserID:       u.ID,
		Via:          p.vias[via],
		Status:       c.status,
		StatusReason: string(c.why),
		Load:         int(load),
		Capacity:     capacity,
		LastActiveAt: u.LastActiveAt,
		LastAssigned: last,
		Dropped:      dropped,
	}
}
