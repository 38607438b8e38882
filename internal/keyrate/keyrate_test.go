package keyrate

import (
	"strconv"
	"testing"
	"time"
)

// TestLimiter: a key gets perMinute events at once, then one every
// 60/perMinute seconds; keys do not share buckets; idle keys are forgotten
// once there are many.
func TestLimiter(t *testing.T) {
	var l Limiter
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 3 {
		if !l.allowAt(t0, "a", 3) {
			t.Fatalf("event %d of a burst of 3 refused", i+1)
		}
	}
	if l.allowAt(t0, "a", 3) {
		t.Fatal("a fourth event at once allowed at 3 a minute")
	}
	if !l.allowAt(t0, "b", 3) {
		t.Fatal("another key was refused: keys share a bucket")
	}
	if l.allowAt(t0.Add(19*time.Second), "a", 3) || !l.allowAt(t0.Add(21*time.Second), "a", 3) {
		t.Fatal("at 3 a minute, one more event should come after 20 s, not before")
	}
	for i := range maxKeys {
		l.allowAt(t0, "k"+strconv.Itoa(i), 3)
	}
	l.allowAt(t0.Add(2*idle), "late", 3)
	if n := len(l.buckets); n > maxKeys/2 {
		t.Fatalf("%d keys held after all went idle, want them forgotten", n)
	}
}
