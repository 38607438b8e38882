// Package sqlstore implements switchboard.Store over database/sql, for
// SQLite (modernc.org/sqlite, pure Go) and PostgreSQL (pgx). One set of
// named queries serves both: they are written in the subset the two
// databases share ($1 placeholders, RETURNING, row values), and the
// dialects differ only where they must (opening, locking, event delivery,
// migrations).
//
// Conventions both dialects follow: ids are TEXT; times are BIGINT unix
// microseconds UTC with 0 for the zero time.Time, and come back in UTC;
// lists and settings are JSON text stored byte for byte; emails are stored
// lower-case. Every query is scoped to one account, except the few lookups
// that by design precede knowing it (UserByEmail, TokenByHash,
// ChannelByID, CountAccounts).
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"

	sb "github.com/switchboard-dev/switchboard"
)

// The dialects, as returned by Store.Dialect.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// pingTimeout bounds the first contact with the database in Open.
const pingTimeout = 10 * time.Second

//go:embed migrations
var migrations embed.FS

// Migrations returns the embedded migration files of a dialect (SQLite or
// Postgres), e.g. for a test helper that builds a template database and
// names it after their content. It panics on an unknown dialect.
func Migrations(dialect string) fs.FS {
	if dialect != SQLite && dialect != Postgres {
		panic("sqlstore: unknown dialect " + dialect)
	}
	sub, err := fs.Sub(migrations, "migrations/"+dialect)
	if err != nil {
		panic(err) // cannot happen: the folder is embedded
	}
	return sub
}

// Store is a switchboard.Store over database/sql. It is safe for
// concurrent use. Close it when done.
type Store struct {
	dialect string
	logger  *slog.Logger
	// write runs Update. SQLite: one connection with immediate
	// transactions. PostgreSQL: the pool, shared with read.
	write *sql.DB
	// read runs View. SQLite: a pool of query_only connections.
	read *sql.DB
	// writeSem (SQLite only, capacity 1) is held for a whole Update, so
	// that its commit and the dispatch of its events are one step and
	// subscribers see events in commit order. The single writer connection
	// serialises Updates anyway; waiting here instead respects ctx.
	writeSem chan struct{}

	bus      *bus
	creds    credentialHooks
	listener *listener     // PostgreSQL only
	stats    *statsWatch   // PostgreSQL only
	ckpt     *checkpointer // SQLite only

	// writeStmts and readStmts are the named queries prepared on write and
	// read (SQLite only; nil on PostgreSQL, whose driver caches them).
	writeStmts, readStmts map[*query]*sql.Stmt

	// multiStmts are the multi-row statements prepared on write so far,
	// of multiRows rows in all (SQLite only; see prepareMulti). Only Update
	// uses them, under writeSem.
	multiStmts map[*query]*sql.Stmt
	multiRows  int

	// maxParams bounds the parameters of one bulk statement (tests lower
	// it to force chunking).
	maxParams int

	closeOnce sync.Once
	closeErr  error
}

var _ sb.Store = (*Store)(nil)

// Open connects to the database named by dsn, applies any pending
// migrations and checks every named query against the schema.
//
// dsn is "sqlite:PATH" (e.g. "sqlite:switchboard.db"), or a PostgreSQL URL
// "postgres://…" or "postgresql://…". A nil logger discards logs.
//
// Errors: Invalid for a malformed or unsupported dsn; Unavailable when the
// database cannot be reached (the message names the dsn without its
// password); Internal when a migration or query check fails.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dialect, target, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	switch dialect {
	case SQLite:
		return openSQLite(ctx, target, logger)
	default:
		return openPostgres(ctx, target, logger)
	}
}

// Migrate applies any pending migrations to the database named by dsn (see
// Open) and returns, for `switchboard migrate`. It starts nothing else.
// Errors are those of Open.
func Migrate(ctx context.Context, dsn string, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dialect, target, err := parseDSN(dsn)
	if err != nil {
		return err
	}
	if dialect == SQLite {
		return migrateSQLite(ctx, target, logger)
	}
	return migratePostgres(ctx, target, logger)
}

// parseDSN splits dsn into its dialect and the driver's part.
func parseDSN(dsn string) (dialect, target string, err error) {
	const op = "sqlstore.Open"
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		path = strings.TrimPrefix(path, "//") // tolerate sqlite://PATH
		if path == "" {
			return "", "", sb.E(op, sb.Invalid, "invalid_dsn", "the SQLite dsn %q names no file", dsn)
		}
		if strings.Contains(path, ":memory:") || strings.Contains(path, "mode=memory") {
			// The writer and the readers are separate connections; each
			// would get its own empty in-memory database.
			return "", "", sb.E(op, sb.Invalid, "invalid_dsn", "in-memory SQLite is not supported; use a file (e.g. in a temporary directory)")
		}
		return SQLite, path, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return Postgres, dsn, nil
	}
	return "", "", sb.E(op, sb.Invalid, "invalid_dsn",
		"unsupported database %q: use sqlite:PATH or postgres://…", redactDSN(dsn))
}

// redactDSN returns dsn with any password hidden, for messages and logs.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		if i := strings.Index(dsn, "@"); i >= 0 {
			return "…" + dsn[i:] // cannot parse: keep only what follows the credentials
		}
		return dsn
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// unreachable is Open's error when the database does not answer.
func unreachable(dsn string, err error) error {
	return &sb.Error{Op: "sqlstore.Open", Kind: sb.Unavailable, Code: "database_unavailable",
		Message: fmt.Sprintf("cannot reach the database at %s", redactDSN(dsn)), Err: err}
}

// migrate applies the dialect's pending migrations, each in its own
// transaction, recorded in goose's version table.
func migrate(ctx context.Context, db *sql.DB, dialect string, logger *slog.Logger, opts ...goose.ProviderOption) error {
	const op = "sqlstore.migrate"
	gd := goose.DialectSQLite3
	if dialect == Postgres {
		gd = goose.DialectPostgres
	}
	opts = append(opts, goose.WithDisableGlobalRegistry(true))
	p, err := goose.NewProvider(gd, db, Migrations(dialect), opts...)
	if err != nil {
		return sb.Wrap(op, err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return classify(op, err, "migration")
	}
	for _, r := range results {
		logger.Info("applied database migration", "dialect", dialect,
			"version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// checkQueries prepares every named query once, so that a query that does
// not match the schema fails at start-up rather than on first use.
func checkQueries(ctx context.Context, db *sql.DB, dialect string) error {
	const op = "sqlstore.checkQueries"
	var errs []error
	for _, q := range registry {
		if q.dialect != "" && q.dialect != dialect {
			continue
		}
		st, err := db.PrepareContext(ctx, q.sql)
		if err != nil {
			errs = append(errs, fmt.Errorf("query %s: %w", q.name, err))
			continue
		}
		st.Close()
	}
	if len(errs) > 0 {
		return sb.Wrap(op, errors.Join(errs...))
	}
	return nil
}

// prepareAll prepares every named query of the dialect on db.
func prepareAll(ctx context.Context, db *sql.DB, dialect string) (map[*query]*sql.Stmt, error) {
	stmts := make(map[*query]*sql.Stmt, len(registry))
	for _, q := range registry {
		if q.dialect != "" && q.dialect != dialect {
			continue
		}
		st, err := db.PrepareContext(ctx, q.sql)
		if err != nil {
			return nil, sb.Wrap("sqlstore.prepareAll", fmt.Errorf("query %s: %w", q.name, err))
		}
		stmts[q] = st
	}
	return stmts, nil
}

// Dialect returns SQLite or Postgres.
func (s *Store) Dialect() string { return s.dialect }

// DroppedEvents returns how many events were not delivered to a subscriber
// because its channel was full.
func (s *Store) DroppedEvents() uint64 { return s.bus.dropped.Load() }

// Close stops the event listener, closes every subscriber's channel and
// closes the database. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.listener != nil {
			s.listener.stop()
		}
		if s.stats != nil {
			s.stats.stop()
		}
		s.bus.close()
		var err error
		if s.ckpt != nil {
			err = s.ckpt.close()
		}
		err = errors.Join(err, s.write.Close())
		if s.read != s.write {
			err = errors.Join(err, s.read.Close())
		}
		if err != nil {
			s.closeErr = sb.Wrap("sqlstore.Close", err)
		}
	})
	return s.closeErr
}
