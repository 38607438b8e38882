package sqlstore

import (
	"context"

	sb "github.com/switchboard-dev/switchboard"
)

// SetMaxParams lowers the parameters a bulk statement of s takes, so that
// tests run bulk calls of a few rows in many chunks. Call it before using s.
func SetMaxParams(s *Store, n int) { s.maxParams = n }

// SetMaxWriteConns limits the connections of s's write pool, so that a
// test's Updates share one.
func SetMaxWriteConns(s *Store, n int) { s.write.SetMaxOpenConns(n) }

// Setting returns a run-time setting as tx's connection has it now.
func Setting(ctx context.Context, in sb.Tx, name string) (string, error) {
	var v string
	err := in.(*tx).queryRow(ctx, &query{name: "setting", sql: "SELECT current_setting($1)", dialect: Postgres}, name).Scan(&v)
	return v, err
}

// SetStatsReady makes s's CommitBatch plan every foreign-key check
// generically, as once the keyed tables have statistics (pgstats.go).
func SetStatsReady(s *Store) { s.stats.ready.Store(true) }

// StatsReady reports whether s found the keyed tables' statistics.
func StatsReady(s *Store) bool { return s.stats.ready.Load() }
