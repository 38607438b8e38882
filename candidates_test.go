package switchboard_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

func TestCandidatesJSON(t *testing.T) {
	at := time.Date(2026, 3, 29, 1, 59, 59, 123456000, time.UTC)
	cases := map[string]sb.Candidates{
		"nil":   nil,
		"empty": {},
		"full": {
			{UserID: "u1", Via: "team:t1", Status: sb.Available, StatusReason: "manual", Load: 3, Capacity: 5, LastActiveAt: at, LastAssigned: at.In(time.FixedZone("x", 3600)), Dropped: sb.DropAtCapacity},
			{UserID: "u2", Via: "user", Status: sb.Away, Load: 0},
		},
		"escapes": {{UserID: "a\"b\\c\n\t\r<>&\x01é\u2028\xff", Via: "日本", Status: "x"}},
	}
	for name, cs := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := json.Marshal(cs)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal([]sb.Candidate(cs)) // the reflection encoder
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("R-A12 record encoding differs:\n got %s\nwant %s", got, want)
			}
			var back sb.Candidates
			if err := json.Unmarshal(got, &back); err != nil || len(back) != len(cs) {
				t.Fatalf("round trip: %v, %d candidates", err, len(back))
			}
		})
	}
}

func BenchmarkCandidatesJSON200(b *testing.B) {
	cs := make(sb.Candidates, 200)
	for i := range cs {
		cs[i] = sb.Candidate{UserID: "01a2015e-fa66-745f-b200-ebee0c9cb9b6", Via: "team:01a2015e-fa66-745f-b200-ebee0c9cb9b6", Status: sb.Available, StatusReason: "manual", Load: i % 7, LastActiveAt: time.Now()}
	}
	b.Run("custom", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(cs)
		}
	})
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			cs.MarshalJSON()
		}
	})
	b.Run("reflection", func(b *testing.B) {
		for b.Loop() {
			json.Marshal([]sb.Candidate(cs))
		}
	})
}

func TestCandidatesStorageForm(t *testing.T) {
	at := time.Date(2026, 3, 29, 1, 59, 59, 123456000, time.UTC)
	cs := sb.Candidates{
		{UserID: "u1", Via: "team:t1", Status: sb.Available, StatusReason: "manual", Load: 3, Capacity: 5, LastActiveAt: at, LastAssigned: at.Add(time.Hour), Dropped: sb.DropAtCapacity},
		{UserID: "u\"2", Via: "team:t1", Status: sb.Available, StatusReason: "manual", Load: 1},
		{UserID: "gone", Via: "user", Dropped: sb.DropUnknownUser},
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
	if old, err := sb.ParseCandidates(a); err != nil || len(old) != 3 {
		t.Fatalf("plain array: %v, %d", err, len(old))
	}
	for _, bad := range []string{`{"d":[""],"c":[["u",5,0,0,0,0,0,0,0]]}`, `{"d":[""],"c":[["u",0]]}`, `{`} {
		if _, err := sb.ParseCandidates([]byte(bad)); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}
