package sqlstore

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	sb "github.com/switchboard-dev/switchboard"
)

// Listener reconnection backoff.
const (
	listenerMinBackoff = 100 * time.Millisecond
	listenerMaxBackoff = 10 * time.Second
)

// listener receives the events notified by every process sharing the
// PostgreSQL database, this one included, on a dedicated connection, and
// dispatches them to this process's subscribers. It is the only way events
// reach subscribers on PostgreSQL. Notifications arrive in commit order,
// and an account's event ids grow in commit order, so an event whose id
// is not above the account's last one dispatched was notified twice (by
// the trigger and by a process of a version before it, during an upgrade)
// and is dropped.
type listener struct {
	s      *Store
	cfg    *pgx.ConnConfig
	dsn    string // for messages, redacted
	cancel context.CancelFunc
	done   chan struct{}
	last   map[string]int64 // account → the last event id dispatched
}

// startListener connects and LISTENs before returning, so that events
// committed after Open returns are not missed, then receives in the
// background until stop.
func startListener(ctx context.Context, s *Store, cfg *pgx.ConnConfig, dsn string) (*listener, error) {
	l := &listener{s: s, cfg: cfg, dsn: redactDSN(dsn), done: make(chan struct{})}
	cctx, cancel := context.WithTimeout(ctx, pingTimeout)
	conn, err := l.connect(cctx)
	cancel()
	if err != nil {
		return nil, unreachable(dsn, err)
	}
	lctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	go l.run(lctx, conn)
	return l, nil
}

// stop ends the listener and waits for it.
func (l *listener) stop() {
	l.cancel()
	<-l.done
}

// connect opens the listener's connection and LISTENs.
func (l *listener) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, l.cfg.Copy())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel+"; LISTEN "+credentialsChannel); err != nil {
		closeConn(conn)
		return nil, err
	}
	return conn, nil
}

// run receives until ctx ends, reconnecting with exponential backoff when
// the connection is lost. Events committed while it is disconnected are
// not delivered; subscribers catch up with EventsSince.
func (l *listener) run(ctx context.Context, conn *pgx.Conn) {
	defer close(l.done)
	backoff := listenerMinBackoff
	for {
		if conn != nil {
			err := l.receive(ctx, conn)
			closeConn(conn)
			conn = nil
			if ctx.Err() != nil {
				return
			}
			l.s.logger.Warn("event listener lost its database connection; reconnecting",
				"dsn", l.dsn, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		c, err := l.connect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			backoff = min(2*backoff, listenerMaxBackoff)
			l.s.logger.Warn("event listener cannot reconnect", "dsn", l.dsn, "retry_in", backoff, "err", err)
			continue
		}
		backoff = listenerMinBackoff
		l.s.logger.Warn("event listener reconnected; events committed meanwhile were not delivered", "dsn", l.dsn)
		conn = c
	}
}

// receive dispatches notifications until the connection fails or ctx
// ends.
func (l *listener) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		switch n.Channel {
		case notifyChannel:
			l.handle(ctx, n.Payload)
		case credentialsChannel:
			l.credentialsNotified(n.Payload)
		}
	}
}

// handle decodes a notification and dispatches its events, loading those
// sent by reference (every one a current process sends) when this process
// has a subscriber for their account.
func (l *listener) handle(ctx context.Context, payload string) {
	var wire []wireEvent
	if err := json.Unmarshal([]byte(payload), &wire); err != nil {
		l.s.logger.Warn("event listener got a malformed notification", "err", err)
		return
	}
	events := make([]sb.Event, 0, len(wire))
	for i := range wire {
		w := &wire[i]
		if !w.Ref {
			events = append(events, w.event())
			continue
		}
		if !l.s.bus.hasSubscribers(w.AccountID) {
			continue
		}
		loaded, err := loadEvents(ctx, l.s.read, w.AccountID, w.ID, max(w.ID, w.Last))
		if err != nil {
			// Not lost: the subscribers are told to replay the log from
			// before these events, as for a subscriber that fell behind.
			l.s.logger.Warn("event listener cannot load events; its subscribers will replay them", "account_id", w.AccountID, "first_id", w.ID, "last_id", w.Last, "err", err)
			events = append(events, sb.Event{ID: w.ID - 1, AccountID: w.AccountID, Type: sb.EventGap, CreatedAt: time.Now()})
			continue
		}
		events = append(events, loaded...)
	}
	l.s.bus.dispatch(l.once(events))
}

// once drops the events already dispatched (see listener); gap markers
// always pass.
func (l *listener) once(events []sb.Event) []sb.Event {
	if l.last == nil {
		l.last = map[string]int64{}
	}
	return slices.DeleteFunc(events, func(e sb.Event) bool {
		if e.Type == sb.EventGap {
			return false
		}
		if e.ID <= l.last[e.AccountID] {
			return true
		}
		l.last[e.AccountID] = e.ID
		return false
	})
}

// closeConn closes a listener connection, waiting at most a second.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn.Close(ctx)
}
