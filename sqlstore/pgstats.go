package sqlstore

import (
	"context"
	"database/sql"
	"log/slog"
	"sync/atomic"
	"time"
)

// The statistics CommitBatch waits for. A conversation's contact and a
// message's or decision's conversation are foreign keys on (account_id,
// id); PostgreSQL checks each with a query that a generic plan serves
// well only once the referenced table has statistics: before, every
// index that begins with the account looks as good as the key's own, and
// the plan it picks (measured: the conversations_counts index) reads the
// account's every conversation per check. So CommitBatch plans those
// checks generically only when both tables have been analysed with at
// least statsMinRows rows; until then they are planned per row. The
// watcher analyses them itself as soon as they hold that many rows:
// autovacuum would too, but on its next round, a minute or more later.
var keyedTables = []string{"contacts", "conversations"}

const (
	statsMinRows = 1000
	statsPoll    = time.Second
)

// statsWatch tells when keyedTables have statistics (ready).
type statsWatch struct {
	ready  atomic.Bool
	cancel context.CancelFunc
	done   chan struct{}
}

// startStatsWatch polls db until keyedTables have statistics, then stops.
func startStatsWatch(db *sql.DB, logger *slog.Logger) *statsWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &statsWatch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(statsPoll)
		defer t.Stop()
		warned := false
		for {
			ready, err := analyzeKeyedTables(ctx, db)
			if ready {
				w.ready.Store(true)
				return
			}
			if err != nil && ctx.Err() == nil && !warned {
				warned = true // autovacuum's ANALYZE will do, later
				logger.Warn("cannot analyze the contacts and conversations tables", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// stop ends the watch and waits for it.
func (w *statsWatch) stop() {
	w.cancel()
	<-w.done
}

// analyzeKeyedTables reports whether keyedTables have statistics of at
// least statsMinRows rows, analysing those that have not but hold as
// many.
func analyzeKeyedTables(ctx context.Context, db *sql.DB) (bool, error) {
	ready := true
	for _, table := range keyedTables {
		var estimated, live int64
		err := db.QueryRowContext(ctx, `SELECT c.reltuples::bigint, COALESCE(s.n_live_tup, 0)
			FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
			WHERE c.oid = to_regclass($1)`, table).Scan(&estimated, &live)
		if err != nil {
			return false, err
		}
		if estimated >= statsMinRows {
			continue
		}
		ready = false
		if live >= statsMinRows {
			if _, err := db.ExecContext(ctx, "ANALYZE "+table); err != nil {
				return false, err
			}
		}
	}
	return ready, nil
}
