package sqlstore

import (
	"context"
	"database/sql"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	sb "github.com/switchboard-dev/switchboard"
)

// PostgreSQL pool limits. Update holds a connection while it waits for
// its account's lock, so the pool must be larger than the number of
// accounts routing at once on this process.
const (
	pgMaxOpenConns    = 32
	pgMaxIdleConns    = 8
	pgConnMaxIdleTime = 5 * time.Minute
)

// The PostgreSQL-only statements.
var (
	// qAccountLock takes the account's routing lock until the transaction
	// ends (R-X7): other transactions of the same account, on any process,
	// wait here.
	qAccountLock = pgQuery("account_lock", `SELECT pg_advisory_xact_lock($1)`)
)

// accountLockKey is the advisory lock key of an account: a 64-bit FNV-1a
// hash of a namespaced account id. The empty account id (setup) gets a
// fixed key of its own. A collision only serialises two accounts more than
// needed.
func accountLockKey(accountID string) int64 {
	h := fnv.New64a()
	h.Write([]byte("switchboard/account:" + accountID))
	return int64(h.Sum64())
}

// openPostgresDB opens a database/sql pool over pgx and checks that the
// server answers.
func openPostgresDB(ctx context.Context, dsn string) (*sql.DB, *pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message masks the password.
		return nil, nil, &sb.Error{Op: "sqlstore.Open", Kind: sb.Invalid, Code: "invalid_dsn",
			Message: "cannot parse the PostgreSQL dsn", Err: err}
	}
	// Custom plans only: a statement's generic plan, which PostgreSQL
	// adopts after five runs, is costed on the statistics of the moment,
	// and a table that was empty then gets sequential scans that stay
	// while it grows, until autovacuum's next ANALYZE (up to a minute and
	// more). On a fresh database that halved the routing throughput; the
	// foreign-key checks' plans had the same trouble. Planning these
	// statements costs far less than one such scan. An operator's own
	// setting in the DSN wins.
	if _, ok := cfg.RuntimeParams["plan_cache_mode"]; !ok {
		cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	db := stdlib.OpenDB(*cfg.Copy())
	db.SetMaxOpenConns(pgMaxOpenConns)
	db.SetMaxIdleConns(pgMaxIdleConns)
	db.SetConnMaxIdleTime(pgConnMaxIdleTime)
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, nil, unreachable(dsn, err)
	}
	return db, cfg, nil
}

// migratePostgresDB migrates under goose's session advisory lock, so that
// processes starting together do not race.
func migratePostgresDB(ctx context.Context, db *sql.DB, logger *slog.Logger) error {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return sb.Wrap("sqlstore.migrate", err)
	}
	return migrate(ctx, db, Postgres, logger, goose.WithSessionLocker(locker))
}

// openPostgres opens the pool, migrates, checks the queries and starts the
// event listener.
func openPostgres(ctx context.Context, dsn string, logger *slog.Logger) (*Store, error) {
	db, cfg, err := openPostgresDB(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := migratePostgresDB(ctx, db, logger); err != nil {
		db.Close()
		return nil, err
	}
	if err := checkQueries(ctx, db, Postgres); err != nil {
		db.Close()
		return nil, err
	}
	s := &Store{
		dialect:   Postgres,
		logger:    logger,
		write:     db,
		read:      db,
		bus:       newBus(logger),
		maxParams: pgMaxParams,
	}
	l, err := startListener(ctx, s, cfg, dsn)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.listener = l
	s.stats = startStatsWatch(db, logger)
	logger.Debug("opened database", "dialect", Postgres, "dsn", redactDSN(dsn))
	return s, nil
}

// migratePostgres is Migrate for PostgreSQL.
func migratePostgres(ctx context.Context, dsn string, logger *slog.Logger) error {
	db, _, err := openPostgresDB(ctx, dsn)
	if err != nil {
		return err
	}
	err = migratePostgresDB(ctx, db, logger)
	return closeWith(err, db, "sqlstore.Migrate")
}

// closeWith closes db and returns err, or the close error if err is nil.
func closeWith(err error, db *sql.DB, op string) error {
	if cerr := db.Close(); err == nil && cerr != nil {
		return sb.Wrap(op, cerr)
	}
	return err
}
