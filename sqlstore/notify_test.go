package sqlstore

import (
	"encoding/json"
	"strings"
	"testing"

	sb "github.com/switchboard-dev/switchboard"
)

// TestNotifyPayloads: a transaction's events are split into notifications
// shorter than 7,000 bytes that carry them all, in order; an event too
// large alone travels as a reference to its row.
func TestNotifyPayloads(t *testing.T) {
	var events []sb.Event
	for i := range 200 {
		data := `{"n":` + strings.Repeat("1", i*7) + `}`
		if i == 50 || i == 120 {
			data = `"` + strings.Repeat("x", 9000) + `"`
		}
		events = append(events, sb.Event{ID: int64(i + 1), AccountID: "acct", Type: "t", Data: json.RawMessage(data)})
	}
	payloads, err := notifyPayloads(events)
	if err != nil {
		t.Fatal(err)
	}
	if len(payloads) < 2 {
		t.Fatalf("%d payloads, want the events split", len(payloads))
	}
	var got []wireEvent
	for _, p := range payloads {
		if len(p) >= maxNotifyPayload {
			t.Errorf("payload of %d bytes, want < %d", len(p), maxNotifyPayload)
		}
		var ws []wireEvent
		if err := json.Unmarshal([]byte(p), &ws); err != nil {
			t.Fatalf("payload is not a JSON array of events: %v", err)
		}
		got = append(got, ws...)
	}
	if len(got) != len(events) {
		t.Fatalf("%d events in the payloads, want %d", len(got), len(events))
	}
	for i, w := range got {
		e := events[i]
		if w.ID != e.ID || w.AccountID != e.AccountID {
			t.Fatalf("event %d: got id %d account %q, want %d %q", i, w.ID, w.AccountID, e.ID, e.AccountID)
		}
		if big := len(e.Data) > maxNotifyPayload; w.Ref != big {
			t.Errorf("event %d (%d bytes of data): Ref = %v, want %v", i, len(e.Data), w.Ref, big)
		} else if !big && string(w.event().Data) != string(e.Data) {
			t.Errorf("event %d: data %q, want %q", i, w.event().Data, e.Data)
		}
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
