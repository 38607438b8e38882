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

// A batch's decisions are stored as changes over the first (R-A12): every
// one reads back exactly as routed.
func TestCandidatesStoredOverABase(t *testing.T) {
	at := time.Date(2026, 3, 29, 1, 59, 59, 123456000, time.UTC)
	base := make(sb.Candidates, 40)
	for i := range base {
		base[i] = sb.Candidate{UserID: "u" + string(rune('A'+i)), Via: "team:t1", Status: sb.Available, StatusReason: "manual", Load: i % 3, Capacity: 5, LastActiveAt: at}
	}
	changed := func(f func(cs sb.Candidates)) sb.Candidates {
		cs := append(sb.Candidates(nil), base...)
		f(cs)
		return cs
	}
	for _, tc := range []struct {
		name   string
		cs     sb.Candidates
		over   bool // stored as changes
		nStore int  // entries written when over
	}{
		{"the same list", changed(func(sb.Candidates) {}), true, 0},
		{"one load up", changed(func(cs sb.Candidates) { cs[7].Load++ }), true, 1},
		{"a time a microsecond later", changed(func(cs sb.Candidates) { cs[3].LastAssigned = at.Add(time.Microsecond) }), true, 1},
		{"a time a nanosecond later is the same stored", changed(func(cs sb.Candidates) { cs[3].LastActiveAt = at.Add(time.Nanosecond) }), true, 0},
		{"dropped and away", changed(func(cs sb.Candidates) { cs[0].Dropped, cs[39].Status = sb.DropAtCapacity, "away" }), true, 2},
		{"most changed: stored whole", changed(func(cs sb.Candidates) {
			for i := range cs[:21] {
				cs[i].Load += 5
			}
		}), false, 0},
		{"another order: stored whole", changed(func(cs sb.Candidates) { cs[0], cs[1] = cs[1], cs[0] }), false, 0},
		{"shorter: stored whole", base[:39], false, 0},
		{"empty: stored whole", sb.Candidates{}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stored, over := tc.cs.AppendCompactOver(nil, base)
			if over != tc.over {
				t.Fatalf("stored over the base: %v, want %v", over, tc.over)
			}
			if !over {
				if len(stored) != 0 {
					t.Fatalf("not over the base, yet %d bytes appended", len(stored))
				}
				return
			}
			if !sb.IsCompactOver(stored) {
				t.Fatalf("IsCompactOver(%s) = false", stored)
			}
			var form struct{ C []json.RawMessage }
			if err := json.Unmarshal(stored, &form); err != nil || len(form.C) != tc.nStore {
				t.Fatalf("%s: %d entries written (%v), want %d", stored, len(form.C), err, tc.nStore)
			}
			back, err := sb.ParseCandidatesOver(stored, base.AppendCompact(nil))
			if err != nil {
				t.Fatal(err)
			}
			whole, err := sb.ParseCandidates(tc.cs.AppendCompact(nil)) // as it reads stored whole
			if err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(whole)
			b, _ := json.Marshal(back)
			if !bytes.Equal(a, b) {
				t.Fatalf("R-A12 record changed in storage:\n got %s\nwant %s", b, a)
			}
			if _, err := sb.ParseCandidates(stored); err == nil {
				t.Fatal("a list stored over a base read without it: want an error")
			}
		})
	}
	// A base that does not fit the changes is an error, not a wrong record.
	stored, _ := changed(func(cs sb.Candidates) { cs[5].Load = 9 }).AppendCompactOver(nil, base)
	for name, b := range map[string][]byte{
		"shorter base":  base[:30].AppendCompact(nil),
		"other users":   changed(func(cs sb.Candidates) { cs[5].UserID = "zz" }).AppendCompact(nil),
		"a base over …": stored,
	} {
		if _, err := sb.ParseCandidatesOver(stored, b); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}
