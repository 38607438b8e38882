package sqlstore

import (
	"context"
	"database/sql"
	"log/slog"
	"net/url"
	"runtime"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	sb "github.com/switchboard-dev/switchboard"
)

// sqliteBusyTimeoutMS is how long a connection waits for another's lock
// (another process's writer, a checkpoint) before failing with SQLITE_BUSY.
const sqliteBusyTimeoutMS = "10000"

// sqliteDSN returns the modernc DSN for path. Pragmas are DSN parameters so
// that every connection the pool opens gets them, not only the first.
//
//   - journal_mode(WAL): readers do not block the writer nor it them.
//   - synchronous(NORMAL): in WAL mode this is safe against corruption and
//     application crashes; a power loss may lose the last transactions
//     before a checkpoint, which is SQLite's recommended trade-off for WAL.
//   - foreign_keys(1): SQLite leaves them off by default.
//   - busy_timeout: wait for locks instead of failing at once.
//   - temp_store(MEMORY), on the writer: statement journals stay in
//     memory. A multi-row INSERT or UPDATE keeps one (to undo itself alone
//     if a row fails), which otherwise spills to a temporary file past
//     64 KiB: a fifth of the time of a bulk insert went to its writes.
//
// The writer begins every transaction IMMEDIATE (_txlock), taking the
// database's write lock up front, so a read-then-write transaction cannot
// fail half-way with SQLITE_BUSY. Readers are query_only.
func sqliteDSN(path string, writer bool) string {
	v := url.Values{}
	v.Add("_pragma", "busy_timeout("+sqliteBusyTimeoutMS+")")
	v.Add("_pragma", "foreign_keys(1)")
	if writer {
		v.Add("_pragma", "journal_mode(WAL)")
		v.Add("_pragma", "synchronous(NORMAL)")
		v.Add("_pragma", "temp_store(MEMORY)")
		v.Add("_pragma", "wal_autocheckpoint(0)") // the checkpointer does it (checkpoint.go)
		v.Set("_txlock", "immediate")
	} else {
		v.Add("_pragma", "query_only(1)")
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + v.Encode()
}

// openSQLite opens the writer connection, migrates, then opens the reader
// pool.
func openSQLite(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	dsn := "sqlite:" + path
	write, err := openSQLiteWriter(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, write, SQLite, logger); err != nil {
		write.Close()
		return nil, err
	}

	read, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		write.Close()
		return nil, sb.Wrap("sqlstore.Open", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	if err := checkQueries(ctx, read, SQLite); err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	// modernc's driver parses a statement's SQL on every call; prepared
	// once here, each runs without the parser (a third of the CPU of an
	// inbound message otherwise). pgx caches statements by itself.
	writeStmts, err := prepareAll(ctx, write, SQLite)
	if err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	readStmts, err := prepareAll(ctx, read, SQLite)
	if err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	ckpt, err := startCheckpointer(path, logger)
	if err != nil {
		write.Close()
		read.Close()
		return nil, sb.Wrap("sqlstore.Open", err)
	}
	logger.Debug("opened database", "dialect", SQLite, "dsn", dsn)
	return &Store{
		ckpt:       ckpt,
		writeStmts: writeStmts,
		readStmts:  readStmts,
		dialect:    SQLite,
		logger:     logger,
		write:      write,
		read:       read,
		bus:        newBus(logger),
		writeSem:   make(chan struct{}, 1),
		multiStmts: make(map[*query]*sql.Stmt),
		maxParams:  sqliteMaxParams,
	}, nil
}

// openSQLiteWriter opens the one writer connection and checks it works.
func openSQLiteWriter(ctx context.Context, path string) (*sql.DB, error) {
	dsn := "sqlite:" + path
	write, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		return nil, sb.Wrap("sqlstore.Open", err)
	}
	// One writer: SQLite has one write lock per database anyway, and a
	// single connection makes Update's order the order of commits.
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := write.PingContext(pctx); err != nil {
		write.Close()
		return nil, unreachable(dsn, err)
	}
	return write, nil
}

// migrateSQLite is Migrate for SQLite.
func migrateSQLite(ctx context.Context, path string, logger *slog.Logger) error {
	write, err := openSQLiteWriter(ctx, path)
	if err != nil {
		return err
	}
	err = migrate(ctx, write, SQLite, logger)
	return closeWith(err, write, "sqlstore.Migrate")
}
