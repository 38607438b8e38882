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
// messages. It is exact because every other write of this process goes
// through Service.update, which drops the account's entry inside its
// transaction (before it can commit), and the batcher applies its own load
// changes to the entry after commit.
//
// It is used on SQLite only, where one process owns the database file. On
// PostgreSQL other processes change users and loads (R-X7), so every batch
// reads them afresh.
type snapCache struct {
	enabled bool
	mu      sync.Mutex
	m       map[string]*accountRows
}

// accountRows is what a routing snapshot is built from.
type accountRows struct {
	users   []*sb.User
	teams   []*sb.Team
	inboxes []*sb.Inbox
	// weights is R-X5's setting when it is on (nil when off), and units
	// each user's open load in units by it.
	weights *sb.RoutingWeights
	units   map[string]int
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

// load returns the account's rows, from the cache when it has them.
func (c *snapCache) load(ctx context.Context, tx sb.Tx, accountID string) (*accountRows, error) {
	if c.enabled {
		c.mu.Lock()
		r := c.m[accountID]
		c.mu.Unlock()
		if r != nil {
			return r, nil
		}
	}
	return loadRows(ctx, tx, accountID)
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
	if !c.enabled {
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

// update is Store.Update for every write but the routing batch: it drops
// the account's cached rows inside the transaction, so no batch can route
// on rows this write changes.
func (s *Service) update(ctx context.Context, accountID string, fn func(sb.Tx) error) error {
	err := s.store.Update(ctx, accountID, func(tx sb.Tx) error {
		s.snaps.invalidate(accountID)
		return fn(tx)
	})
	if err == nil {
		s.wakeJobs() // jobs enqueued in fn are committed now
	}
	return err
}
