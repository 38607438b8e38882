package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"

	sb "github.com/switchboard-dev/switchboard"
)

// query is a named SQL statement. Every statement the store runs is one,
// except the WHERE clauses Conversations builds from a filter; the
// multi-row forms of bulk writes are generated ones (see multiQuery).
type query struct {
	name    string
	sql     string
	dialect string // "" when both dialects run it
	rows    int    // rows of a cached multi-row form on SQLite (see prepareMulti)
}

// registry lists every named query, for checkQueries.
var registry []*query

// newQuery names a statement both dialects run.
func newQuery(name, sql string) *query {
	q := &query{name: name, sql: sql}
	registry = append(registry, q)
	return q
}

// pgQuery names a PostgreSQL-only statement.
func pgQuery(name, sql string) *query {
	q := newQuery(name, sql)
	q.dialect = Postgres
	return q
}

// sqliteQuery names a SQLite-only statement.
func sqliteQuery(name, sql string) *query {
	q := newQuery(name, sql)
	q.dialect = SQLite
	return q
}

// Update implements switchboard.Store.
//
// SQLite: the transaction runs on the one writer connection and begins
// IMMEDIATE, holding the database's write lock, which serialises Updates
// across goroutines and processes alike. Events are dispatched to this
// process's subscribers after commit.
//
// PostgreSQL: the transaction is READ COMMITTED and first takes the
// account's lock (R-X7; see lockAccount). READ COMMITTED matters: each
// statement after the lock sees everything committed before it was
// granted, whereas a REPEATABLE READ snapshot would be taken before the
// wait. Events are
// sent with pg_notify before commit and reach subscribers on every
// process, this one included, through the listener.
//
// fn must not call Update on the same Store (on SQLite it would wait for
// itself). If fn returns an error, Update rolls back and returns that error
// unchanged. A Tx method that failed in the database (a constraint
// violation, a lost connection; not a lookup that found nothing) dooms the
// transaction, as PostgreSQL does: Update then rolls back and returns that
// method's error even if fn returned nil. Other errors: Unavailable,
// Internal.
func (s *Store) Update(ctx context.Context, accountID string, fn func(sb.Tx) error) error {
	return s.UpdateBatch(ctx, accountID, nil, fn)
}

// UpdateBatch implements switchboard.Store: Update, with r's lookups done
// before fn runs (none if r is nil).
func (s *Store) UpdateBatch(ctx context.Context, accountID string, r *sb.BatchRead, fn func(sb.Tx) error) error {
	if s.dialect == Postgres {
		return s.updatePostgres(ctx, accountID, r, fn)
	}
	const op = "sqlstore.Update"
	select {
	case s.writeSem <- struct{}{}:
		defer func() { <-s.writeSem }()
	case <-ctx.Done():
		return classify(op, ctx.Err(), "transaction")
	}
	stx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return classify(op, err, "transaction")
	}
	defer stx.Rollback() // after an error or a panic in fn; a no-op after Commit
	t := &tx{s: s, tx: stx, db: stx}
	if err := t.lockAccount(ctx, accountID); err != nil {
		return classify(op, err, "account lock")
	}
	if err := t.readBatch(ctx, accountID, r); err != nil {
		return err
	}
	if err := t.call(fn); err != nil {
		return err
	}
	if err := stx.Commit(); err != nil {
		return classify(op, err, "transaction")
	}
	s.bus.dispatch(t.events)
	s.creds.call(t.creds)
	s.prepareMulti(ctx, t.unprepared)
	return nil
}

// View implements switchboard.Store: fn runs in a read-only transaction
// with a consistent snapshot (SQLite: a deferred transaction on a
// query_only connection; PostgreSQL: REPEATABLE READ, READ ONLY). Writes
// fail with Internal. If fn returns an error, View returns it unchanged.
// Other errors: Unavailable, Internal.
func (s *Store) View(ctx context.Context, fn func(sb.Tx) error) error {
	const op = "sqlstore.View"
	opts := &sql.TxOptions{ReadOnly: true}
	if s.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	stx, err := s.read.BeginTx(ctx, opts)
	if err != nil {
		return classify(op, err, "transaction")
	}
	defer stx.Rollback()
	t := &tx{s: s, tx: stx, db: stx, readOnly: true}
	if err := fn(t); err != nil {
		return err
	}
	t.done = true
	if err := stx.Commit(); err != nil {
		return classify(op, err, "transaction")
	}
	return nil
}

// tx implements switchboard.Tx over one *sql.Tx. Its methods translate
// errors with classify.
type tx struct {
	s  *Store
	tx *sql.Tx // SQLite, and PostgreSQL's View; nil in a PostgreSQL Update
	db dbtx    // where statements run: tx, or conn
	// conn is a PostgreSQL Update's connection, whose transaction the
	// store begins and ends itself so that it can pipeline (pgtx.go).
	conn     *sql.Conn
	readOnly bool
	version  int64                  // the account's version in this transaction (Version)
	done     bool                   // fn returned: no more AppendEvent
	failed   error                  // the first statement that failed in the database
	events   []sb.Event             // appended in this transaction, in order
	creds    []sb.CredentialsChange // for OnCredentialsChanged, after commit
	// pending are the writes CommitBatch holds back to send with COMMIT
	// (PostgreSQL Update); any other statement sends them first.
	pending *pipeline
	// unprepared are the multi-row statements (SQLite) this transaction
	// ran unprepared; Update prepares them after commit.
	unprepared []*query
}

var _ sb.Tx = (*tx)(nil)

// The account lock. Every write transaction of an account bumps the
// account's version, which also locks its row until the transaction ends:
// the lock that serialises an account's writes on PostgreSQL across
// processes (R-X7), and on SQLite a cheap write under the database's own
// lock. The version tells a cache whether anyone wrote since (Version).
// An account that does not exist yet (setup, accountID "") has no row:
// on PostgreSQL such transactions take an advisory lock on the id instead.
var (
	qBumpVersion = newQuery("bump_account_version",
		`UPDATE accounts SET version = version + 1 WHERE id = $1 RETURNING version`)
)

// dbtx is what statements run on: a *sql.Tx, or a *sql.Conn in a
// transaction.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// lockAccount takes the account's lock for an Update (see qBumpVersion).
func (t *tx) lockAccount(ctx context.Context, accountID string) error {
	if accountID != "" {
		err := t.queryRow(ctx, qBumpVersion, accountID).Scan(&t.version)
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	if t.s.dialect == Postgres {
		_, err := t.db.ExecContext(ctx, qAccountLock.sql, accountLockKey(accountID))
		return err
	}
	return nil
}

// call runs an Update's fn: its error, or the failure of a statement it
// ignored (which has doomed the transaction), ends the Update; otherwise
// the transaction is done and may commit.
func (t *tx) call(fn func(sb.Tx) error) error {
	if err := fn(t); err != nil {
		return err
	}
	if t.failed != nil {
		return t.failed
	}
	t.done = true
	return nil
}

// Version implements switchboard.Tx.
func (t *tx) Version() int64 { return t.version }

// stmt returns q prepared for this transaction, or nil to run its SQL.
func (t *tx) stmt(ctx context.Context, q *query) *sql.Stmt {
	if t.tx == nil {
		return nil
	}
	stmts := t.s.writeStmts
	if t.readOnly {
		stmts = t.s.readStmts
	}
	if st := stmts[q]; st != nil {
		return t.tx.StmtContext(ctx, st)
	}
	if q.rows > 0 && !t.readOnly {
		if st := t.s.multiStmts[q]; st != nil {
			return t.tx.StmtContext(ctx, st)
		}
		t.unprepared = append(t.unprepared, q)
	}
	return nil
}

func (t *tx) exec(ctx context.Context, q *query, args ...any) (sql.Result, error) {
	if err := t.sendPending(ctx); err != nil {
		return nil, err
	}
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.db.ExecContext(ctx, q.sql, args...)
}

func (t *tx) query(ctx context.Context, q *query, args ...any) (*sql.Rows, error) {
	if err := t.sendPending(ctx); err != nil {
		return nil, err
	}
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.db.QueryContext(ctx, q.sql, args...)
}

// querySQL runs a statement built for the call (a view's filters).
func (t *tx) querySQL(ctx context.Context, sqlText string, args ...any) (*sql.Rows, error) {
	if err := t.sendPending(ctx); err != nil {
		return nil, err
	}
	return t.db.QueryContext(ctx, sqlText, args...)
}

func (t *tx) queryRow(ctx context.Context, q *query, args ...any) *sql.Row {
	// A failure here has aborted the transaction and dooms it: the
	// statement below then fails too.
	_ = t.sendPending(ctx)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.db.QueryRowContext(ctx, q.sql, args...)
}

// classify is the package's classify that also dooms the transaction
// when err came from the database: a statement that failed has aborted a
// PostgreSQL transaction, so Update then rolls back on both dialects,
// whatever fn does with the error. No rows is not a failure.
func (t *tx) classify(op string, err error, what string) error {
	return t.doom(err, classify(op, err, what))
}

// classifyConflict is classifyConflict, dooming like classify.
func (t *tx) classifyConflict(op string, err error, what, conflictWhat string) error {
	return t.doom(err, classifyConflict(op, err, what, conflictWhat))
}

// doom records the first failure e (translated from err) and returns e.
func (t *tx) doom(err, e error) error {
	if err != nil && t.failed == nil && !errors.Is(err, sql.ErrNoRows) {
		t.failed = e
	}
	return e
}

// execOne runs an UPDATE or DELETE of one row: NotFound if no row matched.
func (t *tx) execOne(ctx context.Context, op, what string, q *query, args ...any) error {
	res, err := t.exec(ctx, q, args...)
	if err != nil {
		return t.classify(op, err, what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return t.classify(op, err, what)
	}
	if n == 0 {
		return notFound(op, what)
	}
	return nil
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// list runs q and scans each row with scan.
func list[T any](ctx context.Context, t *tx, op, what string, scan func(scanner) (*T, error), q *query, args ...any) ([]*T, error) {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, t.classify(op, err, what)
	}
	return collect(t, op, what, rows, scan)
}

// collect scans every row and closes rows. It never returns a nil slice
// with a nil error: no rows is an empty slice.
func collect[T any](t *tx, op, what string, rows *sql.Rows, scan func(scanner) (*T, error)) ([]*T, error) {
	defer rows.Close()
	out := []*T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, t.classify(op, err, what)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, t.classify(op, err, what)
	}
	return out, nil
}

// one scans a single row: NotFound if there is none.
func one[T any](ctx context.Context, t *tx, op, what string, scan func(scanner) (*T, error), q *query, args ...any) (*T, error) {
	v, err := scan(t.queryRow(ctx, q, args...))
	if err != nil {
		return nil, t.classify(op, err, what)
	}
	return v, nil
}

// newID returns id, or a new UUIDv7 if it is empty.
func newID(id string) (string, error) {
	if id != "" {
		return id, nil
	}
	u, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// micros stores t as unix microseconds; the zero time is 0.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros is the inverse of micros, in UTC.
func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// jsonText encodes v as JSON text for a TEXT column.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// rawText stores raw JSON byte for byte; nil is stored as "".
func rawText(raw json.RawMessage) string { return string(raw) }

// fromRawText is the inverse of rawText: "" is nil.
func fromRawText(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

// limit clamps n to (0, max], with def for n <= 0.
func limit(n, def, max int) int {
	if n <= 0 {
		return def
	}
	return min(n, max)
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
