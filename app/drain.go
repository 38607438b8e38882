package app

import (
	"context"
	"fmt"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// drainScan bounds how many waiting conversations one drain looks at.
const drainScan = 500

// drainTo is R-X2 for one user who became available or freed capacity: the
// oldest waiting conversations they are a candidate for are routed to them
// at once, oldest first, never past their capacity.
func (s *Service) drainTo(ctx context.Context, tx sb.Tx, accountID, userID string) error {
	waiting, err := tx.WaitingConversations(ctx, accountID, drainScan)
	if err != nil || len(waiting) == 0 {
		return err
	}
	snap, err := s.snapshot(ctx, tx, accountID)
	if err != nil {
		return err
	}
	d := drainer{s: s, ctx: ctx, tx: tx, accountID: accountID, snap: snap, channels: map[string]*sb.Channel{}}
	for _, c := range waiting {
		pool, err := d.pool(c)
		if err != nil || pool == nil {
			if err != nil {
				return err
			}
			continue
		}
		ok, _ := pool.Eligible(userID, routing.Arrival{Trigger: sb.TriggerBacklogDrain, StepUserIDs: stepUsers(d.channels[c.ChannelID])})
		if !ok {
			continue
		}
		if err := d.give(c, userID); err != nil {
			return err
		}
	}
	return nil
}

// drainAll routes every waiting conversation of the account that now has a
// candidate, oldest first, by its channel's rule. Used after rule changes
// and by the periodic check for time-based availability (R-X1, R-X2).
func (s *Service) drainAll(ctx context.Context, tx sb.Tx, accountID string) error {
	waiting, err := tx.WaitingConversations(ctx, accountID, drainScan)
	if err != nil || len(waiting) == 0 {
		return err
	}
	snap, err := s.snapshot(ctx, tx, accountID)
	if err != nil {
		return err
	}
	d := drainer{s: s, ctx: ctx, tx: tx, accountID: accountID, snap: snap, channels: map[string]*sb.Channel{}}
	for _, c := range waiting {
		pool, err := d.pool(c)
		if err != nil {
			return err
		}
		if pool == nil {
			continue
		}
		res := pool.Decide(routing.Arrival{Trigger: sb.TriggerBacklogDrain, StepUserIDs: stepUsers(d.channels[c.ChannelID])}, lockedRand{s})
		if res.AssigneeID == "" {
			continue
		}
		if err := d.give(c, res.AssigneeID); err != nil {
			return err
		}
	}
	return nil
}

type drainer struct {
	s         *Service
	ctx       context.Context
	tx        sb.Tx
	accountID string
	snap      *routing.Snapshot
	channels  map[string]*sb.Channel
}

// pool returns the compiled rule of c's channel, or nil if the channel is
// gone or its routing is off (then c no longer waits).
func (d *drainer) pool(c *sb.Conversation) (*routing.Pool, error) {
	ch, ok := d.channels[c.ChannelID]
	if !ok {
		var err error
		ch, err = d.tx.Channel(d.ctx, d.accountID, c.ChannelID)
		if sb.IsKind(err, sb.NotFound) {
			ch = nil
		} else if err != nil {
			return nil, err
		}
		d.channels[c.ChannelID] = ch
	}
	if ch == nil || !ch.Routing.Enabled {
		return nil, nil
	}
	return d.snap.Pool(ch), nil
}

// give assigns waiting conversation c to userID with a backlog-drain record.
func (d *drainer) give(c *sb.Conversation, userID string) error {
	st, why, _ := d.snap.Effective(userID)
	dec := &sb.Decision{ID: d.s.newID(), AccountID: d.accountID, ConversationID: c.ID, Trigger: sb.TriggerBacklogDrain,
		Mode: "backlog_drain", Strategy: "oldest_first", Outcome: sb.OutcomeAssigned, AssigneeID: userID, Candidates: []sb.Candidate{},
		Reason: fmt.Sprintf("It was waiting since %s; %s became free (%s, %s) and it was the oldest conversation they could take.",
			c.CreatedAt.Format(time.RFC3339), d.name(userID), st, why),
		CreatedAt: d.s.Now()}
	d.snap.Assigned(userID, c.ChannelKind)
	if load, capacity, _ := d.snap.Load(userID); d.snap.Weighted() {
		dec.Reason += " With weighted capacity they now carry " + describeUnits(load, capacity) + "." // R-X5
	}
	if err := d.s.assign(d.ctx, d.tx, c, userID, c.TeamID, dec); err != nil {
		return err
	}
	if ch := d.channels[c.ChannelID]; ch != nil {
		return d.s.startReplyTimer(d.ctx, d.tx, ch, c, nil)
	}
	return nil
}

func (d *drainer) name(userID string) string {
	u, err := d.tx.User(d.ctx, d.accountID, userID)
	if err != nil || u.Name == "" {
		return userID
	}
	return u.Name
}

// runDrainTicker re-checks waiting conversations every drainInterval, so
// that users who come back by their working hours or the end of an
// out-of-office range get the backlog without anyone clicking (R-X1, R-X2).
func (s *Service) runDrainTicker(ctx context.Context) {
	t := time.NewTicker(s.drainInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.DrainAll(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("periodic backlog drain failed", "err", err)
			}
		}
	}
}

// DrainAll runs drainAll for every account.
func (s *Service) DrainAll(ctx context.Context) error {
	var accounts []*sb.Account
	if err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		accounts, err = tx.Accounts(ctx)
		return err
	}); err != nil {
		return sb.Wrap("app.DrainAll", err)
	}
	for _, a := range accounts {
		if err := s.update(ctx, a.ID, func(tx sb.Tx) error { return s.drainAll(ctx, tx, a.ID) }); err != nil {
			return sb.Wrap("app.DrainAll", err)
		}
	}
	return nil
}
