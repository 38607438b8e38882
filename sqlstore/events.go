package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	sb "github.com/switchboard-dev/switchboard"
)

// Event delivery.
const (
	// subscriberBuffer is each subscriber's channel capacity; once it is
	// full, further events are dropped for that subscriber.
	subscriberBuffer = 1024
	// eventsDefaultLimit and eventsMaxLimit bound EventsSince.
	eventsDefaultLimit = 100
	eventsMaxLimit     = 1000
)

// eventValues are the columns AppendEvent writes: all but the id.
const eventValues = `account_id, type, inbox_id, conversation_id, user_id, data, created_at`

const eventColumns = `id, ` + eventValues

var (
	mAppendEvent = newInsert("append_event", "events", eventValues, ` RETURNING id`)
	qEventsSince = newQuery("events_since", `SELECT `+eventColumns+` FROM events
		WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3`)
	qEvent = newQuery("event",
		`SELECT `+eventColumns+` FROM events WHERE account_id = $1 AND id = $2`)
	qEventRange = newQuery("event_range",
		`SELECT `+eventColumns+` FROM events WHERE account_id = $1 AND id >= $2 AND id <= $3 ORDER BY id`)
)

// AppendEvent stores e in its account's log, sets e.ID and queues e for
// publication after commit. Data is stored byte for byte. Internal in a
// View; NotFound if the account does not exist.
func (t *tx) AppendEvent(ctx context.Context, e *sb.Event) error {
	return t.appendEvents(ctx, "sqlstore.AppendEvent", []*sb.Event{e})
}

// AppendEvents stores es as AppendEvent does, in order, in one statement
// per chunk, and sets their IDs (ascending). Nothing is stored if one
// fails.
func (t *tx) AppendEvents(ctx context.Context, es []*sb.Event) error {
	return t.appendEvents(ctx, "sqlstore.AppendEvents", es)
}

// appendEvents inserts es with a multi-row INSERT … RETURNING id. Which id
// belongs to which event: both databases insert the rows of a VALUES list
// in order, drawing each id from the table's counter as they go (SQLite's
// AUTOINCREMENT takes the largest id yet plus one, PostgreSQL's sequence
// only grows), so the ids ascend in VALUES order, and chunks run one after
// the other. RETURNING's order, however, is not promised (SQLite documents
// it as arbitrary), so the ids are sorted before they are handed out in
// order. Gaps (other accounts drawing from the PostgreSQL sequence
// meanwhile) do not matter.
func (t *tx) appendEvents(ctx context.Context, op string, es []*sb.Event) error {
	w, err := t.eventsWrite(op, es)
	if err != nil {
		return err
	}
	return t.run(ctx, w)
}

func (t *tx) eventsWrite(op string, es []*sb.Event) (*write, error) {
	const what = "event"
	if len(es) > 0 && (t.readOnly || t.done) {
		return nil, internalf(op, "%s outside a running Update", strings.TrimPrefix(op, "sqlstore."))
	}
	return &write{m: mAppendEvent, n: len(es), returning: true,
		row: func(args []any, i int) ([]any, error) {
			e := es[i]
			return append(args, e.AccountID, e.Type, e.InboxID, e.ConversationID, e.UserID, rawText(e.Data),
				micros(e.CreatedAt)), nil
		},
		fail: func(err error) error { return t.classify(op, err, what) },
		done: func(_ int64, ids []int64) error {
			if len(ids) != len(es) {
				return t.doom(errEventIDs, internalf(op, "stored %d events, got %d ids", len(es), len(ids)))
			}
			slices.Sort(ids)
			for i, e := range es {
				e.ID = ids[i]
				// Subscribers get the event as EventsSince returns it, on
				// both dialects: the time to the microsecond, in UTC.
				stored := *e
				stored.CreatedAt = fromMicros(micros(e.CreatedAt))
				t.events = append(t.events, stored)
			}
			return nil
		}}, nil
}

// errEventIDs dooms a transaction whose events did not all get an id.
var errEventIDs = errors.New("missing event ids")

// EventsSince returns the account's events with ID > afterID, oldest
// first. limit <= 0 means 100; at most 1000 are returned.
//
// Within an account, ids grow in commit order: events are only appended
// under Update, which holds the account's lock until commit.
func (t *tx) EventsSince(ctx context.Context, accountID string, afterID int64, n int) ([]*sb.Event, error) {
	return list(ctx, t, "sqlstore.EventsSince", "events", scanEvent, qEventsSince,
		accountID, afterID, limit(n, eventsDefaultLimit, eventsMaxLimit))
}

func scanEvent(r scanner) (*sb.Event, error) {
	var e sb.Event
	var data string
	var created int64
	if err := r.Scan(&e.ID, &e.AccountID, &e.Type, &e.InboxID, &e.ConversationID, &e.UserID, &data, &created); err != nil {
		return nil, err
	}
	e.Data, e.CreatedAt = fromRawText(data), fromMicros(created)
	return &e, nil
}

// loadEvents reads the account's events with ids from first to last,
// outside any Update, for the listener.
func loadEvents(ctx context.Context, db *sql.DB, accountID string, first, last int64) ([]sb.Event, error) {
	const op = "sqlstore.loadEvents"
	rows, err := db.QueryContext(ctx, qEventRange.sql, accountID, first, last)
	if err != nil {
		return nil, classify(op, err, "event")
	}
	defer rows.Close()
	var out []sb.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, classify(op, err, "event")
		}
		out = append(out, *e)
	}
	return out, classify(op, rows.Err(), "event")
}

// Subscribe implements switchboard.Store. The channel has room for 1024
// events; when it is full, further events are dropped for this subscriber
// (counted in DroppedEvents) rather than blocking anyone, and an
// sb.EventGap marker tells it where to replay from. It is closed when
// ctx ends or the Store closes.
//
// SQLite delivers the events committed by this process, before Update
// returns. PostgreSQL delivers those committed by every process sharing
// the database, through LISTEN/NOTIFY, a moment after commit: an event
// committed just before Subscribe may still arrive, and while the listener
// reconnects after losing its connection, events are missed. Consumers
// that replay with EventsSince therefore skip ids they have seen.
func (s *Store) Subscribe(ctx context.Context, accountID string) <-chan sb.Event {
	return s.bus.subscribe(ctx, accountID)
}

// bus fans events out to this process's subscribers.
type bus struct {
	logger  *slog.Logger
	dropped atomic.Uint64

	mu     sync.RWMutex
	subs   map[string]map[*subscriber]struct{} // by account id
	closed bool
}

type subscriber struct {
	accountID string
	ch        chan sb.Event
	dropped   atomic.Uint64
	stop      func() bool // stops the context.AfterFunc

	mu       sync.Mutex
	gap      bool  // events were dropped and the gap marker is not sent yet
	gapAfter int64 // the marker's ID: the events after it include the dropped ones
}

// deliver hands e to sub without blocking. When the channel is full, e is
// dropped and, as soon as there is room again, an sb.EventGap marker goes
// first, whose ID is the last event before the first one dropped: replaying
// the log after it (EventsSince) recovers everything missed.
func (b *bus) deliver(sub *subscriber, e sb.Event) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.gap {
		select {
		case sub.ch <- sb.Event{ID: sub.gapAfter, AccountID: sub.accountID, Type: sb.EventGap, CreatedAt: e.CreatedAt}:
			sub.gap = false
		default:
			b.drop(sub, e)
			return
		}
	}
	select {
	case sub.ch <- e:
	default:
		sub.gap, sub.gapAfter = true, e.ID-1
		b.drop(sub, e)
	}
}

func (b *bus) drop(sub *subscriber, e sb.Event) {
	b.dropped.Add(1)
	if sub.dropped.Add(1) == 1 {
		b.logger.Warn("event subscriber is too slow; dropping its events (it is told where the gap starts)",
			"account_id", e.AccountID, "event_id", e.ID)
	}
}

func newBus(logger *slog.Logger) *bus {
	return &bus{logger: logger, subs: make(map[string]map[*subscriber]struct{})}
}

func (b *bus) subscribe(ctx context.Context, accountID string) <-chan sb.Event {
	sub := &subscriber{accountID: accountID, ch: make(chan sb.Event, subscriberBuffer)}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(sub.ch)
		return sub.ch
	}
	m := b.subs[accountID]
	if m == nil {
		m = make(map[*subscriber]struct{})
		b.subs[accountID] = m
	}
	m[sub] = struct{}{}
	sub.stop = context.AfterFunc(ctx, func() { b.unsubscribe(sub) })
	return sub.ch
}

// unsubscribe removes sub and closes its channel, once.
func (b *bus) unsubscribe(sub *subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.subs[sub.accountID]
	if _, ok := m[sub]; !ok {
		return
	}
	delete(m, sub)
	if len(m) == 0 {
		delete(b.subs, sub.accountID)
	}
	b.closeSub(sub)
}

// closeSub closes sub's channel; b.mu must be held for writing.
func (b *bus) closeSub(sub *subscriber) {
	close(sub.ch)
	if n := sub.dropped.Load(); n > 0 {
		b.logger.Warn("event subscriber ended having missed events", "account_id", sub.accountID, "dropped", n)
	}
}

// hasSubscribers reports whether anyone here listens to the account.
func (b *bus) hasSubscribers(accountID string) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.subs[accountID]) > 0
}

// dispatch hands each event to its account's subscribers without
// blocking: a full channel drops the event.
func (b *bus) dispatch(events []sb.Event) {
	if len(events) == 0 {
		return
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, e := range events {
		for sub := range b.subs[e.AccountID] {
			b.deliver(sub, e)
		}
	}
}

// close closes every subscriber's channel; later subscriptions get a
// closed channel.
func (b *bus) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for _, m := range b.subs {
		for sub := range m {
			sub.stop()
			b.closeSub(sub)
		}
	}
	clear(b.subs)
}

// notifyChannel is where PostgreSQL notifies appended events: the
// events table's trigger (migration 00011) sends one reference per
// account and statement, and PostgreSQL delivers it to every listening
// process when, and only if, the transaction commits, in commit order.
const notifyChannel = "switchboard_events"

// wireEvent is an entry of a notification: a reference to the events of
// one account with ids from ID to Last, which the listener loads from the
// events table (with Ref set). Since session 3 a transaction notifies only
// such references, a few dozen bytes, instead of its events' JSON: the
// payloads had cost the serialised routing backend about a tenth of its
// time (docs/PERFORMANCE.md), and a process with no subscriber for the
// account now loads nothing. Entries that carry an event inline (Ref
// unset) or a single reference (Last 0) are what earlier versions send;
// the listener still reads them, so that processes can be upgraded one by
// one.
type wireEvent struct {
	ID             int64  `json:"id"`
	AccountID      string `json:"account_id"`
	Ref            bool   `json:"ref,omitempty"`
	Last           int64  `json:"last,omitempty"`
	Type           string `json:"type,omitempty"`
	InboxID        string `json:"inbox_id,omitempty"`
	ConversationID string `json:"conversation_id,omitempty"`
	UserID         string `json:"user_id,omitempty"`
	Data           string `json:"data,omitempty"`
	CreatedAt      int64  `json:"created_at,omitempty"`
}

func (w *wireEvent) event() sb.Event {
	return sb.Event{ID: w.ID, AccountID: w.AccountID, Type: w.Type, InboxID: w.InboxID,
		ConversationID: w.ConversationID, UserID: w.UserID, Data: fromRawText(w.Data),
		CreatedAt: fromMicros(w.CreatedAt)}
}
