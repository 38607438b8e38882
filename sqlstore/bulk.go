package sqlstore

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
)

// Bulk statements. The routing batch reads and writes many rows per
// transaction; each bulk method runs one statement per chunk of rows, so
// that N arrivals cost a constant number of round trips on PostgreSQL and
// of statements on SQLite, not N times a few.
//
// Writes are multi-row statements (multiQuery): a multi-row INSERT …
// VALUES, or an UPDATE … FROM a VALUES list (both dialects have UPDATE …
// FROM; SQLite since 3.33). Their SQL depends on the row count only, so it
// is built once per count and cached. The one-row form is a registered
// named query (checked at start-up, prepared on SQLite) and serves the
// one-row methods, which delegate to the bulk ones; so is the two-row form,
// so that the multi-row syntax is checked at start-up too.
//
// Placeholders: $n on PostgreSQL; on SQLite, anonymous ? in the multi-row
// forms. SQLite keeps the names of $n (and ?n) parameters in a list it
// searches linearly, when parsing and again when the driver binds each
// one, so a statement with P of them costs O(P²): inserting 1,000 events
// (7,000 parameters) took 260 ms with $n, 11 ms with ?. Anonymous ? are
// numbered by position at no cost.
//
// Lookups by many keys pass the keys as one parameter, so that their SQL
// is fixed (a registered query, prepared on SQLite): a text[] on
// PostgreSQL (= ANY($n::text[]), or unnest of two arrays for pairs), a JSON
// array on SQLite (IN (SELECT value FROM json_each($n))). Both use the
// indexes of the one-row lookups; TestBulkLookupPlans checks SQLite's plans.

// Parameters per statement: SQLite allows 32,766
// (SQLITE_MAX_VARIABLE_NUMBER), PostgreSQL 65,535 (a 16-bit count in its
// protocol). Calls with more rows run in chunks.
const (
	sqliteMaxParams = 32000
	pgMaxParams     = 65000
)

// multiCacheRows is the largest row count whose SQL a multiQuery caches.
// Typical calls have 1 to 200 rows; larger ones, rare, build their SQL on
// each call, which executing that many rows dwarfs, rather than pinning
// ever larger strings.
const multiCacheRows = 256

// multiQuery is a statement over a variable number of rows: head, then per
// row a parenthesised list of cols placeholders, comma-separated, then
// tail.
type multiQuery struct {
	name       string
	head, tail string
	cols       int
	// casts, if set, are the SQL types of the first row's placeholders,
	// written CAST($n AS type): PostgreSQL types the columns of a VALUES
	// list from its first row, and an untyped parameter would be text.
	// (SQLite accepts the casts; they do not change its values.)
	casts []string
	one   *query      // the statement for one row
	sqls  [2]sync.Map // per dialect (see dialectIndex): row count → *query
}

// newInsert names a multi-row INSERT INTO table (columns) VALUES …, tail.
// Its one-row form is the named query name.
func newInsert(name, table, columns, tail string) *multiQuery {
	m := &multiQuery{name: name, head: `INSERT INTO ` + table + ` (` + columns + `) VALUES `,
		tail: tail, cols: strings.Count(columns, ",") + 1}
	m.one = newQuery(name, m.build(Postgres, 1))
	m.register()
	return m
}

// newMulti names a multi-row statement whose one-row form is the simpler
// statement one, which takes the same parameters as a row.
func newMulti(one *query, head, tail string, casts []string) *multiQuery {
	m := &multiQuery{name: one.name, head: head, tail: tail, cols: len(casts), casts: casts, one: one}
	m.register()
	return m
}

// register names the two-row forms, so that checkQueries checks the
// multi-row syntax at start-up (and SQLite prepares it).
func (m *multiQuery) register() {
	m.sqls[dialectIndex(SQLite)].Store(2, sqliteQuery(m.name+"*2", m.build(SQLite, 2)))
	m.sqls[dialectIndex(Postgres)].Store(2, pgQuery(m.name+"*2", m.build(Postgres, 2)))
}

func dialectIndex(dialect string) int {
	if dialect == Postgres {
		return 1
	}
	return 0
}

// query returns the statement for n rows.
func (m *multiQuery) query(dialect string, n int) *query {
	if n == 1 {
		return m.one
	}
	name := m.name + "*" + strconv.Itoa(n)
	if n > multiCacheRows {
		return &query{name: name, sql: m.build(dialect, n), dialect: dialect}
	}
	sqls := &m.sqls[dialectIndex(dialect)]
	if q, ok := sqls.Load(n); ok {
		return q.(*query)
	}
	q := &query{name: name, sql: m.build(dialect, n), dialect: dialect}
	if dialect == SQLite {
		q.rows = n
	}
	v, _ := sqls.LoadOrStore(n, q)
	return v.(*query)
}

// build writes the SQL for n rows.
func (m *multiQuery) build(dialect string, n int) string {
	var b strings.Builder
	b.Grow(len(m.head) + len(m.tail) + n*m.cols*8)
	b.WriteString(m.head)
	p := 0
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range m.cols {
			if c > 0 {
				b.WriteString(", ")
			}
			p++
			ph := "?"
			if dialect == Postgres {
				ph = "$" + strconv.Itoa(p)
			}
			if r == 0 && m.casts != nil {
				ph = "CAST(" + ph + " AS " + m.casts[c] + ")"
			}
			b.WriteString(ph)
		}
		b.WriteByte(')')
	}
	b.WriteString(m.tail)
	return b.String()
}

// Which multi-row statements a SQLite Store keeps prepared: a prepared
// multi-row INSERT takes some 1.7 KiB of SQLite's memory per row (440 KiB
// for 256 rows of conversations), so only the smaller ones, within a
// budget of a few MiB.
const (
	maxPreparedRows    = 64
	preparedRowsBudget = 2048
)

// prepareMulti prepares on the SQLite writer the multi-row statements a
// transaction ran unprepared, so that later transactions skip parsing
// them (an eighth of the CPU of a batch of 16 arrivals otherwise). It runs
// after commit, still under writeSem, when the writer's one connection is
// free again: preparing during the transaction would wait for it.
func (s *Store) prepareMulti(ctx context.Context, qs []*query) {
	for _, q := range qs {
		if q.rows > maxPreparedRows || s.multiRows+q.rows > preparedRowsBudget || s.multiStmts[q] != nil {
			continue
		}
		st, err := s.write.PrepareContext(ctx, q.sql)
		if err != nil {
			return // only a missed optimisation
		}
		s.multiStmts[q] = st
		s.multiRows += q.rows
	}
}

// chunkRows is how many rows of m one statement takes.
func (t *tx) chunkRows(m *multiQuery) int {
	return max(1, t.s.maxParams/m.cols)
}

// chunks runs m over n rows, in as few statements as the parameter limit
// allows: row appends row i's values to args, then run executes the
// chunk's statement q.
//
// The call writes all or nothing: a failed statement aborts the whole
// transaction on PostgreSQL, and undoes itself on SQLite, where several
// chunks run in a savepoint that a failure rolls back.
func (t *tx) chunks(ctx context.Context, m *multiQuery, n int,
	row func(args []any, i int) ([]any, error), run func(q *query, args []any) error) error {
	size := t.chunkRows(m)
	if n > size && t.s.dialect == SQLite {
		if _, err := t.exec(ctx, qSavepoint); err != nil {
			return err
		}
		err := t.eachChunk(m, n, size, row, run)
		if err != nil {
			_, rerr := t.exec(ctx, qRollbackToSavepoint)
			if rerr == nil {
				_, rerr = t.exec(ctx, qReleaseSavepoint)
			}
			return firstErr(err, rerr)
		}
		_, err = t.exec(ctx, qReleaseSavepoint)
		return err
	}
	return t.eachChunk(m, n, size, row, run)
}

func (t *tx) eachChunk(m *multiQuery, n, size int,
	row func(args []any, i int) ([]any, error), run func(q *query, args []any) error) error {
	args := make([]any, 0, min(n, size)*m.cols)
	for lo := 0; lo < n; lo += size {
		hi := min(n, lo+size)
		args = args[:0]
		for i := lo; i < hi; i++ {
			var err error
			if args, err = row(args, i); err != nil {
				return err
			}
		}
		if err := run(m.query(t.s.dialect, hi-lo), args); err != nil {
			return err
		}
	}
	return nil
}

// execRows runs m over n rows (see chunks) and returns how many rows the
// statements changed.
func (t *tx) execRows(ctx context.Context, m *multiQuery, n int,
	row func(args []any, i int) ([]any, error)) (int64, error) {
	var total int64
	err := t.chunks(ctx, m, n, row, func(q *query, args []any) error {
		res, err := t.exec(ctx, q, args...)
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		total += k
		return err
	})
	return total, err
}

// The savepoint around a multi-chunk write on SQLite. (Bulk calls do not
// nest, so one name does.)
var (
	qSavepoint           = sqliteQuery("savepoint", `SAVEPOINT bulk`)
	qRollbackToSavepoint = sqliteQuery("rollback_to_savepoint", `ROLLBACK TO bulk`)
	qReleaseSavepoint    = sqliteQuery("release_savepoint", `RELEASE bulk`)
)

// newIDs returns the n ids of a bulk insert: id(i), or a new UUIDv7 where
// it is empty.
func newIDs(n int, id func(i int) string) ([]string, error) {
	ids := make([]string, n)
	for i := range ids {
		var err error
		if ids[i], err = newID(id(i)); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// dialectQuery is a statement written once per dialect.
type dialectQuery struct{ sqlite, postgres *query }

// newDialectQuery names a statement written differently for each dialect.
func newDialectQuery(name, sqliteSQL, pgSQL string) dialectQuery {
	return dialectQuery{sqliteQuery(name, sqliteSQL), pgQuery(name, pgSQL)}
}

// of returns the statement of t's dialect.
func (d dialectQuery) of(t *tx) *query {
	if t.s.dialect == Postgres {
		return d.postgres
	}
	return d.sqlite
}

// inKeys writes "col is one of the keys in parameter p" for each dialect;
// the parameter is keyList's.
func sqliteInKeys(col string, p int) string {
	return col + " IN (SELECT value FROM json_each($" + strconv.Itoa(p) + "))"
}

func pgInKeys(col string, p int) string {
	return col + " = ANY($" + strconv.Itoa(p) + "::text[])"
}

// keyList passes keys as one parameter: a text[] on PostgreSQL, a JSON
// array on SQLite. (Keys must be valid UTF-8, as every string reaching the
// store through JSON is: encoding/json would replace invalid bytes, and
// PostgreSQL refuses them anyway.)
func (t *tx) keyList(keys []string) (any, error) {
	if t.s.dialect == Postgres {
		return keys, nil
	}
	return jsonText(keys)
}

// nonEmpty returns the non-empty strings of keys, mapped by f.
func nonEmpty(keys []string, f func(string) string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if k != "" {
			out = append(out, f(k))
		}
	}
	return out
}

// uniqueByID drops the rows whose id came before, keeping the order.
func uniqueByID[T any](rows []*T, id func(*T) string) []*T {
	if len(rows) < 2 {
		return rows
	}
	seen := make(map[string]struct{}, len(rows))
	out := rows[:0]
	for _, r := range rows {
		if _, dup := seen[id(r)]; !dup {
			seen[id(r)] = struct{}{}
			out = append(out, r)
		}
	}
	return out
}

// pairList passes (a, b) key pairs: two text[] parameters on PostgreSQL
// (for unnest), one JSON array of two-element arrays on SQLite.
func (t *tx) pairList(n int, pair func(i int) (string, string)) ([]any, error) {
	if t.s.dialect == Postgres {
		as, bs := make([]string, n), make([]string, n)
		for i := range n {
			as[i], bs[i] = pair(i)
		}
		return []any{as, bs}, nil
	}
	ps := make([][2]string, n)
	for i := range n {
		ps[i][0], ps[i][1] = pair(i)
	}
	b, err := json.Marshal(ps)
	return []any{string(b)}, err
}

// lastOfEach drops the rows that a later row with the same key replaces.
func lastOfEach[T any, K comparable](rows []T, key func(T) K) []T {
	if len(rows) < 2 {
		return rows
	}
	last := make(map[K]int, len(rows))
	for i, r := range rows {
		last[key(r)] = i
	}
	if len(last) == len(rows) {
		return rows
	}
	out := make([]T, 0, len(last))
	for i, r := range rows {
		if last[key(r)] == i {
			out = append(out, r)
		}
	}
	return out
}

// short checks that a bulk UPDATE of want rows changed n: NotFound if
// fewer. When it changed some, it dooms the transaction, so that a call
// that fails never commits half-done.
func (t *tx) short(op, what string, n int64, want int) error {
	if n >= int64(want) {
		return nil
	}
	err := notFound(op, what)
	if n > 0 && t.failed == nil {
		t.failed = err
	}
	return err
}
