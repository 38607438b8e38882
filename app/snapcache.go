package app

import (
	"context"
	"sync"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// snapCache keeps each account's users, teams and inboxes between routing
// batches, so that a batch does not reload 200 users to route a handful of
// messages. It is exact on both databases and with several processes
// (R-X7): every write transaction of an account increments the account's
// version when it takes the account's lock (Tx.Version), the batcher
// applies its own load changes to the entry after commit, and an entry
// filled at version v is used only by a batch that sees v+1, that is when
// no other transaction, of this process or another, wrote in between.
type snapCache struct {
	mu sync.Mutex
	m  map[string]*accountRows
}

// accountRows is what a routing snapshot is built from.
type accountRows struct {
	version int64 // the account's version of the batch that left them
	users   []*sb.User
	teams   []*sb.Team
	inboxes []*sb.Inbox
	// weights is R-X5's setting when it is on (nil when off), and units
	// each user's open load in units by it.
	weights *sb.RoutingWeights
	units   map[string]int
	// channels are the channels batches looked up, filled as they go
	// (nil value: no such channel).
	channels map[string]*sb.Channel
}

// snapshot builds the routing snapshot of the rows at now.
func (r *accountRows) snapshot(now time.Time) *routing.Snapshot {
	return routing.NewWeightedSnapshot(now, r.users, r.teams, r.inboxes, r.weights, r.units)
}

func (c *snapCache) invalidate(accountID string) {
	c.mu.Lock()
	delete(c.m, accountID)
	c.mu.Unlock()
}

// load returns the account's rows, from the cache when they are current.
func (c *snapCache) load(ctx context.Context, tx sb.Tx, accountID string) (*accountRows, error) {
	v := tx.Version()
	c.mu.Lock()
	r := c.m[accountID]
	c.mu.Unlock()
	if r != nil && v != 0 && r.version+1 == v {
		r.version = v
		return r, nil
	}
	r, err := loadRows(ctx, tx, accountID)
	if err != nil {
		return nil, err
	}
	r.version = v
	return r, nil
}

// loadRows reads what a routing snapshot is built from.
func loadRows(ctx context.Context, tx sb.Tx, accountID string) (*accountRows, error) {
	us, err := tx.Users(ctx, accountID)
	if err != nil {
		return nil, err
	}
	ts, err := tx.Teams(ctx, accountID)
	if err != nil {
		return nil, err
	}
	ins, err := tx.Inboxes(ctx, accountID)
	if err != nil {
		return nil, err
	}
	r := &accountRows{users: us, teams: ts, inboxes: ins}
	w, err := tx.RoutingWeights(ctx, accountID)
	switch {
	case sb.IsKind(err, sb.NotFound):
		return r, nil
	case err != nil:
		return nil, err
	case !w.Enabled:
		return r, nil
	}
	// R-X5: loads in units, counted from the open conversations
	// themselves, so that every path that assigns, closes or reopens is
	// reflected without keeping a second counter.
	loads, err := tx.OpenLoads(ctx, accountID)
	if err != nil {
		return nil, err
	}
	r.weights, r.units = w, routing.Units(w, loads)
	return r, nil
}

// committed records a batch's rows and load changes after its commit;
// with weights (R-X5), the loads in units are the batch's snapshot's.
func (c *snapCache) committed(accountID string, r *accountRows, loads map[string]*sb.LoadDelta, snap *routing.Snapshot) {
	if r.version == 0 {
		return
	}
	if r.weights != nil {
		for _, u := range r.users {
			r.units[u.ID], _, _ = snap.Load(u.ID)
		}
	}
	for _, u := range r.users {
		if d, ok := loads[u.ID]; ok {
			u.OpenChats += d.Delta
			if !d.AssignedAt.IsZero() {
				u.LastChatAssignedAt = d.AssignedAt
			}
		}
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*accountRows{}
	}
	c.m[accountID] = r
	c.mu.Unlock()
}

// update is Store.Update for every write but the routing batch, and
// wakes the job runner after commit. (Its transaction bumps the account's
// version, so no batch routes on rows it changed: see snapCache.)
func (s *Service) update(ctx context.Context, accountID string, fn func(sb.Tx) error) error {
	err := s.store.Update(ctx, accountID, fn)
	if err == nil {
		s.wakeJobs() // jobs enqueued in fn are committed now
	}
	return err
}
