package sqlstore

import (
	"database/sql"
	"log/slog"
	"slices"
	"testing"

	sb "github.com/switchboard-dev/switchboard"
)

// TestAccountLockKey: the key is stable, and the empty account (setup)
// has one of its own.
func TestAccountLockKey(t *testing.T) {
	if accountLockKey("") != accountLockKey("") || accountLockKey("a") != accountLockKey("a") {
		t.Errorf("accountLockKey is not stable")
	}
	if accountLockKey("") == accountLockKey("a") || accountLockKey("a") == accountLockKey("b") {
		t.Errorf("accountLockKey collides on trivial input")
	}
}

func TestRedactDSN(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@db:5432/x?sslmode=disable":     "postgres://u:xxxxx@db:5432/x?sslmode=disable",
		"postgres://u@db/x?password=secret&sslmode=require": "postgres://u@db/x?password=xxxxx&sslmode=require",
		"sqlite:/tmp/x.db": "sqlite:/tmp/x.db",
	} {
		if got := redactDSN(in); got != want {
			t.Errorf("redactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestListenerReadsEarlierVersionsInline: during a rolling upgrade, a
// process of an earlier version still notifies events inline; the
// listener delivers them as they are, without a read.
func TestListenerReadsEarlierVersionsInline(t *testing.T) {
	s := &Store{bus: newBus(slog.New(slog.DiscardHandler)), logger: slog.New(slog.DiscardHandler)}
	l := &listener{s: s}
	sub := s.bus.subscribe(t.Context(), "acct")
	l.handle(t.Context(), `[{"id":7,"account_id":"acct","type":"message.created","data":"{\"a\":1}","created_at":1700000000000000},`+
		`{"id":8,"account_id":"other","type":"x"}]`)
	select {
	case e := <-sub:
		if e.ID != 7 || e.Type != "message.created" || string(e.Data) != `{"a":1}` || e.CreatedAt.UnixMicro() != 1700000000000000 {
			t.Fatalf("inline event delivered as %+v", e)
		}
	default:
		t.Fatal("the inline event was not delivered")
	}
	select {
	case e := <-sub:
		t.Fatalf("another account's event delivered: %+v", e)
	default:
	}
}

// TestListenerTellsSubscribersToReplay: when the listener cannot read the
// events a notification refers to, the account's subscribers get a gap
// marker from just before them, so that they replay the log rather than
// miss the events.
func TestListenerTellsSubscribersToReplay(t *testing.T) {
	db, err := sql.Open("pgx", "postgres://127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	db.Close() // every read fails
	s := &Store{bus: newBus(slog.New(slog.DiscardHandler)), logger: slog.New(slog.DiscardHandler), read: db}
	sub := s.bus.subscribe(t.Context(), "acct")
	(&listener{s: s}).handle(t.Context(), `[{"id":40,"last":42,"account_id":"acct","ref":true}]`)
	select {
	case e := <-sub:
		if e.Type != sb.EventGap || e.ID != 39 || e.AccountID != "acct" {
			t.Fatalf("got %+v, want a gap marker after event 39", e)
		}
	default:
		t.Fatal("nothing delivered: the subscriber would miss events 40 to 42")
	}
}

// TestListenerDeliversEachEventOnce: during an upgrade, a process of an
// earlier version notifies its events itself and the trigger notifies
// them again; subscribers get each once, in order, and gap markers still.
func TestListenerDeliversEachEventOnce(t *testing.T) {
	s := &Store{bus: newBus(slog.New(slog.DiscardHandler)), logger: slog.New(slog.DiscardHandler)}
	l := &listener{s: s}
	sub := s.bus.subscribe(t.Context(), "acct")
	for _, p := range []string{
		`[{"id":7,"account_id":"acct","type":"a"},{"id":8,"account_id":"acct","type":"b"}]`,
		`[{"id":7,"account_id":"acct","type":"a"},{"id":8,"account_id":"acct","type":"b"},{"id":9,"account_id":"acct","type":"c"}]`,
		`[{"id":8,"account_id":"acct","type":"b"}]`,
	} {
		l.handle(t.Context(), p)
	}
	l.s.bus.dispatch(l.once([]sb.Event{{ID: 5, AccountID: "acct", Type: sb.EventGap}}))
	var got []int64
	for len(got) < 5 {
		select {
		case e := <-sub:
			got = append(got, e.ID)
			continue
		default:
		}
		break
	}
	if want := []int64{7, 8, 9, 5}; !slices.Equal(got, want) {
		t.Fatalf("delivered ids %v, want %v (each event once, then the gap marker)", got, want)
	}
}
