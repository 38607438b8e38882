package sqlstore

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	sb "github.com/switchboard-dev/switchboard"
)

// A PostgreSQL Update runs on one connection of the pool, and the store
// begins and ends its transaction itself instead of through database/sql's
// Tx, so that it can send several statements in one round trip (pgx's
// batch, a pipeline): BEGIN with the account lock; a routing batch's
// writes (WriteBatch); the events' notifications with COMMIT. Statements
// in between run on the connection through database/sql as usual.
//
// A routing batch through database/sql took some fifteen round trips, and
// on a small machine each waited for a CPU that the HTTP handlers, the
// load and PostgreSQL share: those waits, not the statements, were most of
// its time (docs/PERFORMANCE.md).

// pgRollbackTimeout bounds the ROLLBACK of a failed Update; a connection
// that cannot roll back is discarded.
const pgRollbackTimeout = 5 * time.Second

// updatePostgres is Update on PostgreSQL.
func (s *Store) updatePostgres(ctx context.Context, accountID string, r *sb.BatchRead, fn func(sb.Tx) error) error {
	const op = "sqlstore.Update"
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return classify(op, err, "transaction")
	}
	defer conn.Close()
	t := &tx{s: s, db: conn, conn: conn}
	open := true // a transaction may be open on conn: roll it back
	defer func() {
		if open {
			t.rollback(ctx)
		}
	}()
	if err := t.begin(ctx, accountID, r); err != nil {
		return err
	}
	if err := t.call(fn); err != nil {
		return err
	}
	open, err = t.commit(ctx)
	if err != nil {
		return classify(op, err, "transaction")
	}
	s.creds.call(t.creds) // here at once; the others by notification
	return nil
}

// raw runs f on the Update's pgx connection.
func (t *tx) raw(f func(c *pgx.Conn) error) error {
	return t.conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return internalf("sqlstore.raw", "the PostgreSQL driver connection is a %T", dc)
		}
		return f(sc.Conn())
	})
}

// begin opens the transaction, takes the account's lock (lockAccount) and
// reads r's lookups (readBatch), in one round trip.
func (t *tx) begin(ctx context.Context, accountID string, r *sb.BatchRead) error {
	reads, err := t.batchReads(accountID, r)
	if err != nil {
		return err
	}
	err = t.raw(func(c *pgx.Conn) error {
		b := &pgx.Batch{}
		// READ COMMITTED: see Update.
		b.Queue("BEGIN ISOLATION LEVEL READ COMMITTED")
		if accountID != "" {
			b.Queue(qBumpVersion.sql, accountID)
		}
		for _, rd := range reads {
			b.Queue(rd.q.sql, rd.args...)
		}
		br := c.SendBatch(ctx, b)
		_, err := br.Exec()
		if err == nil && accountID != "" {
			err = br.QueryRow().Scan(&t.version)
			if errors.Is(err, pgx.ErrNoRows) {
				err = nil
			}
		}
		if err != nil {
			return errors.Join(classify("sqlstore.Update", err, "account lock"), br.Close())
		}
		for _, rd := range reads {
			if err := rd.read(br); err != nil {
				return errors.Join(err, br.Close())
			}
		}
		return classify("sqlstore.Update", br.Close(), "transaction")
	})
	if err != nil || t.version != 0 {
		return err
	}
	// No account row (setup): the advisory lock instead, then the lookups
	// again, under it.
	if _, err := t.db.ExecContext(ctx, qAccountLock.sql, accountLockKey(accountID)); err != nil {
		return classify("sqlstore.Update", err, "account lock")
	}
	return t.readBatch(ctx, accountID, r)
}

// pipedRead is one lookup sent in a pipeline: its statement, and how its
// result is read.
type pipedRead struct {
	q    *query
	args []any
	read func(br pgx.BatchResults) error
}

// batchReads returns r's lookups as pipelined statements; they fill in r
// as readBatch does.
func (t *tx) batchReads(accountID string, r *sb.BatchRead) ([]pipedRead, error) {
	if r == nil {
		return nil, nil
	}
	r.Delivered, r.Contacts = []*sb.Message{}, []*sb.Contact{}
	var reads []pipedRead
	args, err := t.messagesByExternalIDsArgs(accountID, r.Keys)
	if err != nil {
		return nil, classify("sqlstore.MessagesByExternalIDs", err, "messages")
	}
	if args != nil {
		reads = append(reads, pipedRead{qMessagesByExternalIDs.of(t), args, func(br pgx.BatchResults) (err error) {
			r.Delivered, err = pipedList(br, "sqlstore.MessagesByExternalIDs", "messages", scanMessage)
			return err
		}})
	}
	if args, err = t.contactsByKeysArgs(accountID, r.Emails, r.Tokens, r.Phones); err != nil {
		return nil, classify("sqlstore.ContactsByKeys", err, "contacts")
	}
	if args != nil {
		reads = append(reads, pipedRead{qContactsByKeys.of(t), args, func(br pgx.BatchResults) error {
			cs, err := pipedList(br, "sqlstore.ContactsByKeys", "contacts", scanContact)
			r.Contacts = uniqueContacts(cs)
			return err
		}})
	}
	return reads, nil
}

// pipedList reads the next result of a pipeline as list does.
func pipedList[T any](br pgx.BatchResults, op, what string, scan func(scanner) (*T, error)) ([]*T, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, classify(op, err, what)
	}
	defer rows.Close()
	out := []*T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, classify(op, err, what)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(op, err, what)
	}
	return out, nil
}

// readBatch fills in r's lookups (UpdateBatch) one statement after the
// other.
func (t *tx) readBatch(ctx context.Context, accountID string, r *sb.BatchRead) error {
	if r == nil {
		return nil
	}
	var err error
	if r.Delivered, err = t.MessagesByExternalIDs(ctx, accountID, r.Keys); err != nil {
		return err
	}
	r.Contacts, err = t.ContactsByKeys(ctx, accountID, r.Emails, r.Tokens, r.Phones)
	return err
}

// commit sends COMMIT, after the writes CommitBatch held back, in one
// round trip. open reports whether a transaction may still be open on the
// connection (a write failed, so COMMIT never ran). The events' triggers
// have queued their notifications (migration 00011): PostgreSQL delivers
// them only if the transaction commits, in commit order, to every
// listening process.
func (t *tx) commit(ctx context.Context) (open bool, err error) {
	p := t.pending
	t.pending = nil
	if p == nil {
		p = &pipeline{b: &pgx.Batch{}}
	}
	for _, c := range t.creds {
		payload, err := json.Marshal(c)
		if err != nil {
			return true, internalf("sqlstore.Update", "encoding a credentials change: %v", err)
		}
		p.plain(qNotifyCredentials.sql, string(payload))
	}
	p.b.Queue("COMMIT")
	err = t.raw(func(c *pgx.Conn) error {
		br := c.SendBatch(ctx, p.b)
		failed := p.read(br)
		err := br.Close()
		open = c.PgConn().TxStatus() != 'I'
		return firstErr(failed, err)
	})
	return open, err
}

// rollback ends a failed Update's transaction. A connection it cannot
// roll back is discarded, never handed to the next Update mid-transaction
// (pgx's driver also refuses to pool a connection that is in one).
func (t *tx) rollback(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pgRollbackTimeout)
	defer cancel()
	_ = t.raw(func(c *pgx.Conn) error {
		if c.IsClosed() {
			return driver.ErrBadConn
		}
		if _, err := c.Exec(ctx, "ROLLBACK"); err != nil || c.PgConn().TxStatus() != 'I' {
			return driver.ErrBadConn
		}
		return nil
	})
}

// write is one bulk write of a Tx method: a multi-row statement over n
// rows, how the method names its failure, and what it does with the
// result.
type write struct {
	m   *multiQuery
	n   int
	row func(args []any, i int) ([]any, error)
	// fail translates a failed statement into the method's error (and
	// dooms the transaction).
	fail func(err error) error
	// returning: the statement returns one id per row, collected for done.
	returning bool
	// done runs once every chunk succeeded, with the rows changed and the
	// ids returned.
	done func(changed int64, ids []int64) error
}

// run executes w statement by statement.
func (t *tx) run(ctx context.Context, w *write) error {
	if w.n == 0 {
		return nil
	}
	var changed int64
	var ids []int64
	var err error
	if w.returning {
		err = t.chunks(ctx, w.m, w.n, w.row, func(q *query, args []any) error {
			rows, err := t.query(ctx, q, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			return scanIDs(rows, &ids)
		})
	} else {
		changed, err = t.execRows(ctx, w.m, w.n, w.row)
	}
	if err != nil {
		return w.fail(err)
	}
	if w.done != nil {
		return w.done(changed, ids)
	}
	return nil
}

// runAll executes ws in order: on a PostgreSQL Update in one round trip,
// otherwise one after the other. It stops at the first failure and
// returns that write's error.
func (t *tx) runAll(ctx context.Context, ws []*write) error {
	if t.conn == nil {
		for _, w := range ws {
			if err := t.run(ctx, w); err != nil {
				return err
			}
		}
		return nil
	}
	if err := t.sendPending(ctx); err != nil {
		return err
	}
	p := &pipeline{b: &pgx.Batch{}}
	if err := t.queue(p, ws); err != nil {
		return err
	}
	return t.send(ctx, p)
}

// pipeline is a pgx batch of writes, and what to read back.
type pipeline struct {
	b    *pgx.Batch
	sent []sent
}

type sent struct {
	w     *write // nil: a plain statement
	count int    // statements queued for w
}

// plain queues a statement whose result is only checked (a SET LOCAL, a
// notification).
func (p *pipeline) plain(sql string, args ...any) {
	p.b.Queue(sql, args...)
	p.sent = append(p.sent, sent{count: 1})
}

// queue adds ws's statements to p.
func (t *tx) queue(p *pipeline, ws []*write) error {
	for _, w := range ws {
		if w.n == 0 {
			continue
		}
		before := p.b.Len()
		err := t.eachChunk(w.m, w.n, t.chunkRows(w.m), w.row, func(q *query, args []any) error {
			p.b.Queue(q.sql, slices.Clone(args)...)
			return nil
		})
		if err != nil {
			return w.fail(err)
		}
		p.sent = append(p.sent, sent{w, p.b.Len() - before})
	}
	return nil
}

// read reads the writes' results from br, in order, and returns the first
// failed write's error.
func (p *pipeline) read(br pgx.BatchResults) error {
	for _, s := range p.sent {
		if s.w == nil {
			if _, err := br.Exec(); err != nil {
				return classify("sqlstore.pipeline", err, "statement")
			}
			continue
		}
		var changed int64
		var ids []int64
		var err error
		for range s.count {
			if err = readResult(br, s.w.returning, &changed, &ids); err != nil {
				break
			}
		}
		if err != nil {
			return s.w.fail(err)
		}
		if s.w.done != nil {
			if err := s.w.done(changed, ids); err != nil {
				return err
			}
		}
	}
	return nil
}

// send runs p in one round trip.
func (t *tx) send(ctx context.Context, p *pipeline) error {
	if p.b.Len() == 0 {
		return nil
	}
	var failed error
	err := t.raw(func(c *pgx.Conn) error {
		br := c.SendBatch(ctx, p.b)
		defer br.Close()
		failed = p.read(br)
		return nil
	})
	return firstErr(failed, t.classify("sqlstore.WriteBatch", err, "row"))
}

// sendPending sends the writes CommitBatch held back, if any: a statement
// after CommitBatch must see them (CommitBatch should be the last, but
// order is kept even if it is not).
func (t *tx) sendPending(ctx context.Context) error {
	p := t.pending
	if p == nil {
		return nil
	}
	t.pending = nil
	return t.send(ctx, p)
}

// readResult reads the next result of a batch: the rows changed, or the
// ids returned.
func readResult(br pgx.BatchResults, returning bool, changed *int64, ids *[]int64) error {
	if !returning {
		tag, err := br.Exec()
		*changed += tag.RowsAffected()
		return err
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	return scanIDs(rows, ids)
}

// scanIDs appends the ids that rows (of database/sql or pgx) return.
func scanIDs(rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}, ids *[]int64) error {
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		*ids = append(*ids, id)
	}
	return rows.Err()
}

// WriteBatch implements switchboard.Tx.
func (t *tx) WriteBatch(ctx context.Context, b *sb.BatchWrite) error {
	ws, err := t.batchWrites("sqlstore.WriteBatch", b)
	if err != nil {
		return err
	}
	return t.runAll(ctx, ws)
}

// CommitBatch implements switchboard.Tx: in a PostgreSQL Update the
// writes wait for COMMIT and go with it, in one round trip (commit);
// elsewhere it is WriteBatch.
func (t *tx) CommitBatch(ctx context.Context, b *sb.BatchWrite) error {
	const op = "sqlstore.CommitBatch"
	ws, err := t.batchWrites(op, b)
	if err != nil || t.conn == nil {
		return firstErr(err, t.runAll(ctx, ws))
	}
	if err := t.sendPending(ctx); err != nil {
		return err
	}
	// ws: contacts, conversations, messages, decisions, loads, events.
	generic := []*write{ws[0], ws[5]}
	custom := ws[1:5]
	if t.s.stats != nil && t.s.stats.ready.Load() {
		generic = []*write{ws[0], ws[1], ws[2], ws[3], ws[5]}
		custom = ws[4:5]
	}
	p := &pipeline{b: &pgx.Batch{}}
	for _, set := range genericPlans {
		p.plain(set)
	}
	if err := t.queue(p, generic); err != nil {
		return err
	}
	for _, set := range customPlans {
		p.plain(set)
	}
	if err := t.queue(p, custom); err != nil {
		return err
	}
	t.pending = p
	return nil
}

// genericPlans and customPlans frame the rows whose foreign keys
// PostgreSQL checks with generic plans. Each key of each row is checked
// by a query of its own, which the connections' force_custom_plan (see
// postgres.go) would plan again for every row: a fifth of the serialised
// routing backend's time (four checks of the account and two of the
// conversation per arrival, one of the contact). A generic plan, made
// once per connection with sequential scans ruled out, is the right one
// for the account's key whatever the statistics (the accounts' primary
// key is their only index), so contacts and events always have it; the
// conversations, messages and decisions have it once the contacts and
// conversations tables have statistics (pgstats.go). The load update
// keeps a custom plan: it joins a list with users, whose indexes would
// compete as well. customPlans restores the connection's own settings
// (force_custom_plan, or what the DSN says).
var (
	genericPlans = []string{"SET LOCAL plan_cache_mode = force_generic_plan", "SET LOCAL enable_seqscan = off"}
	customPlans  = []string{"SET LOCAL plan_cache_mode TO DEFAULT", "SET LOCAL enable_seqscan TO DEFAULT"}
)

// batchWrites returns b's writes, in the order they run.
func (t *tx) batchWrites(op string, b *sb.BatchWrite) ([]*write, error) {
	ws := make([]*write, 0, 6)
	for _, mk := range []func() (*write, error){
		func() (*write, error) { return t.contactsWrite(op, b.Contacts) },
		func() (*write, error) { return t.conversationsWrite(op, b.Conversations) },
		func() (*write, error) { return t.messagesWrite(op, b.Messages) },
		func() (*write, error) { return t.decisionsWrite(op, b.Decisions) },
		func() (*write, error) { return t.loadsWrite(op, b.AccountID, b.Loads), nil },
		func() (*write, error) { return t.eventsWrite(op, b.Events) },
	} {
		w, err := mk()
		if err != nil {
			return nil, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}
