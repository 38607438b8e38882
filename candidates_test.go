package switchboard_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

func TestCandidatesStorageForm(t *testing.T) {
	at := time.Date(2026, 3, 29, 1, 59, 59, 123456000, time.UTC)
	cs := sb.Candidates{
		{UserID: "u1", Via: "team:t1", Status: sb.Available, StatusReason: "manual", Load: 3, Capacity: 5, LastActiveAt: at, LastAssigned: at.Add(time.Hour), Dropped: sb.DropAtCapacity},
		{UserID: "u\"2", Via: "team:t1", Status: sb.Available, StatusReason: "manual", Load: 1},
		{UserID: "gone", Via: "user", Dropped: sb.DropUnknownUser},
		{UserID: "a\"b\\c\n\t\r<>&\x01é\u2028", Via: "日本", Status: "x"},
	}
	stored := cs.AppendCompact(nil)
	back, err := sb.ParseCandidates(stored)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(cs)
	b, _ := json.Marshal(back)
	if !bytes.Equal(a, b) {
		t.Fatalf("R-A12 record must survive storage unchanged:\n got %s\nwant %s", b, a)
	}
	if len(stored) >= len(a) {
		t.Fatalf("the storage form (%d bytes) should be smaller than the API form (%d)", len(stored), len(a))
	}
	// Rows written as a plain array still read.
	if old, err := sb.ParseCandidates(a); err != nil || len(old) != len(cs) {
		t.Fatalf("plain array: %v, %d", err, len(old))
	}
	for _, bad := range []string{`{"d":[""],"c":[["u",5,0,0,0,0,0,0,0]]}`, `{"d":[""],"c":[["u",0]]}`, `{`} {
		if _, err := sb.ParseCandidates([]byte(bad)); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}
