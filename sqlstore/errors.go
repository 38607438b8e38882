package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	sb "github.com/switchboard-dev/switchboard"
)

// classify turns a driver error into a *switchboard.Error, by error code,
// never by message text:
//
//   - no rows: NotFound ("<what> not found");
//   - unique or primary-key violation: Conflict ("<what> already exists");
//   - foreign-key violation: NotFound (a referenced row does not exist);
//   - the database cannot be reached, is shutting down, overloaded or
//     locked, or the context ended: Unavailable;
//   - anything else: Internal.
//
// what names the row in messages, e.g. "user" or "user with this email".
// An error that already is a *switchboard.Error is returned as is.
func classify(op string, err error, what string) error {
	if err == nil {
		return nil
	}
	var e *sb.Error
	if errors.As(err, &e) {
		return err
	}
	kind, code, msg := sb.Internal, "internal", ""
	switch {
	case errors.Is(err, sql.ErrNoRows):
		kind, code, msg = sb.NotFound, "not_found", what+" not found"
	case isUniqueViolation(err):
		kind, code, msg = sb.Conflict, "already_exists", what+" already exists"
	case isForeignKeyViolation(err):
		kind, code, msg = sb.NotFound, "reference_not_found", what+" refers to a row that does not exist"
	case isUnavailable(err):
		kind, code, msg = sb.Unavailable, "database_unavailable", "the database is unavailable; try again later"
	}
	return &sb.Error{Op: op, Kind: kind, Code: code, Message: msg, Err: err}
}

// notFound is the NotFound error of a lookup that found nothing without
// asking the database (e.g. an empty key) or an update of no row.
func notFound(op, what string) error {
	return sb.E(op, sb.NotFound, "not_found", "%s not found", what)
}

// internalf is an Internal error for a misuse of the store.
func internalf(op, format string, args ...any) error {
	return &sb.Error{Op: op, Kind: sb.Internal, Code: "internal", Err: fmt.Errorf(format, args...)}
}

// SQLite extended result codes (modernc's *sqlite.Error.Code returns them:
// the driver enables extended codes on every connection).
const (
	sqliteConstraintUnique     = sqlite3.SQLITE_CONSTRAINT_UNIQUE     // 2067
	sqliteConstraintPrimaryKey = sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY // 1555
	sqliteConstraintForeignKey = sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY // 787
)

// PostgreSQL SQLSTATEs.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

func sqliteCode(err error) (int, bool) {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code(), true
	}
	return 0, false
}

func pgCode(err error) (string, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code, true
	}
	return "", false
}

func isUniqueViolation(err error) bool {
	if c, ok := sqliteCode(err); ok {
		return c == sqliteConstraintUnique || c == sqliteConstraintPrimaryKey
	}
	c, ok := pgCode(err)
	return ok && c == pgUniqueViolation
}

func isForeignKeyViolation(err error) bool {
	if c, ok := sqliteCode(err); ok {
		return c == sqliteConstraintForeignKey
	}
	c, ok := pgCode(err)
	return ok && c == pgForeignKeyViolation
}

// isUnavailable reports whether err means "try again later": the database
// cannot be reached or is overloaded, or the caller's context ended.
func isUnavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	if c, ok := sqliteCode(err); ok {
		switch c & 0xff { // the primary code
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN,
			sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL:
			return true
		}
		return false
	}
	if c, ok := pgCode(err); ok {
		// 08: connection exception; 53: insufficient resources; 57P:
		// operator intervention (shutdown, cannot connect now); 40001 and
		// 40P01: serialisation failure and deadlock, which a retry fixes.
		return strings.HasPrefix(c, "08") || strings.HasPrefix(c, "53") ||
			strings.HasPrefix(c, "57P") || c == "40001" || c == "40P01"
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// classifyConflict is classify with a more precise name for the row when
// err is a uniqueness violation: what "user", conflictWhat "user with this
// email".
func classifyConflict(op string, err error, what, conflictWhat string) error {
	if isUniqueViolation(err) {
		what = conflictWhat
	}
	return classify(op, err, what)
}
