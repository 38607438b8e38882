package app

import (
	"context"
	"sync"

	sb "github.com/switchboard-dev/switchboard"
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
	return &accountRows{users: us, teams: ts, inboxes: ins}, nil
}

// committed records a batch's rows and load changes after its commit.
func (c *snapCache) committed(accountID string, r *accountRows, loads map[string]*sb.LoadDelta) {
	if !c.enabled {
		return
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
