package sqlstore

import (
	"database/sql"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	sb "github.com/switchboard-dev/switchboard"
)

// TestNotifyPayloads: a transaction's events travel as references, one
// per run of one account's events (first and last id), in notifications
// shorter than 7,000 bytes, in order, whatever the events' size.
func TestNotifyPayloads(t *testing.T) {
	var events []sb.Event
	for i := range 200 {
		account := "acct"
		if i >= 150 { // a second account's run, as setup may write
			account = "other"
		}
		data := `"` + strings.Repeat("x", i*50) + `"`
		events = append(events, sb.Event{ID: int64(i + 1), AccountID: account, Type: "t", Data: json.RawMessage(data)})
	}
	payloads, err := notifyPayloads(events)
	if err != nil {
		t.Fatal(err)
	}
	var got []wireEvent
	for _, p := range payloads {
		if len(p) >= maxNotifyPayload {
			t.Errorf("payload of %d bytes, want < %d", len(p), maxNotifyPayload)
		}
		var ws []wireEvent
		if err := json.Unmarshal([]byte(p), &ws); err != nil {
			t.Fatalf("payload is not a JSON array of references: %v", err)
		}
		got = append(got, ws...)
	}
	want := []wireEvent{{ID: 1, Last: 150, AccountID: "acct", Ref: true}, {ID: 151, Last: 200, AccountID: "other", Ref: true}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("references %+v, want %+v", got, want)
	}
	// Many runs (accounts alternating) split into several notifications.
	var mixed []sb.Event
	for i := range 500 {
		mixed = append(mixed, sb.Event{ID: int64(i + 1), AccountID: "account-" + strconv.Itoa(i%2)})
	}
	payloads, err = notifyPayloads(mixed)
	if err != nil || len(payloads) < 2 {
		t.Fatalf("500 runs: %d payloads (%v), want several", len(payloads), err)
	}
	next := int64(1)
	for _, p := range payloads {
		var ws []wireEvent
		if err := json.Unmarshal([]byte(p), &ws); err != nil || len(p) >= maxNotifyPayload {
			t.Fatalf("payload of %d bytes: %v", len(p), err)
		}
		for _, w := range ws {
			if w.ID != next || w.Last != next || w.AccountID != mixed[next-1].AccountID {
				t.Fatalf("reference %+v, want event %d alone", w, next)
			}
			next++
		}
	}
	if next != 501 {
		t.Fatalf("references to %d events, want 500", next-1)
	}
	if none, err := notifyPayloads(nil); err != nil || len(none) != 0 {
		t.Fatalf("no events: %d payloads (%v), want none", len(none), err)
	}
}

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
