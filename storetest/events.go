package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// eventTimeout is how long a subscriber waits for an event it expects.
const eventTimeout = 15 * time.Second

// receive returns the next event on ch with an ID above floor, failing
// the test if none comes in time or ch is closed. Events at or below floor
// were committed before the subscription: a store may still deliver those
// committed just before it (PostgreSQL's notifications arrive a moment
// after commit), and consumers skip ids they have seen.
func receive(t *testing.T, ch <-chan sb.Event, floor int64) sb.Event {
	t.Helper()
	timeout := time.After(eventTimeout)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("subscription closed, want an event")
			}
			if e.ID > floor {
				return e
			}
		case <-timeout:
			t.Fatalf("no event within %v", eventTimeout)
		}
	}
}

// waitClosed fails the test unless ch is closed in time (events still
// buffered are skipped).
func waitClosed(t *testing.T, what string, ch <-chan sb.Event) {
	t.Helper()
	deadline := time.After(eventTimeout)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Errorf("%s: subscription not closed within %v", what, eventTimeout)
			return
		}
	}
}

func idsOfEvents(events []*sb.Event) []int64 {
	out := make([]int64, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

// stored is e as a store returns it: times to the microsecond.
func stored(e *sb.Event) *sb.Event {
	c := *e
	c.CreatedAt = us(c.CreatedAt)
	return &c
}

// testEventsSince: the log returns the account's events after an id,
// oldest first, every field whole (Data byte for byte); ids grow.
func testEventsSince(t *testing.T, f *fixture) {
	wa, wb := f.world("a"), f.world("b")
	a := wa.account.ID
	ctx := f.ctx
	e1 := &sb.Event{AccountID: a, Type: sb.EventMessageCreated, ConversationID: wa.conv.ID,
		Data: json.RawMessage(`{"body": "hi",  "n": [1, 2]}`), CreatedAt: at(1)}
	e2 := &sb.Event{AccountID: a, Type: sb.EventUserStatus, InboxID: wa.inbox.ID, UserID: wa.user.ID, CreatedAt: at(2)}
	e3 := &sb.Event{AccountID: a, Type: sb.EventConversationAssigned, Data: json.RawMessage(`null`), CreatedAt: at(3)}
	f.update(a, func(tx sb.Tx) error {
		must(t, "AppendEvent", tx.AppendEvent(ctx, e1))
		return tx.AppendEvent(ctx, e2)
	})
	f.update(a, func(tx sb.Tx) error { return tx.AppendEvent(ctx, e3) })
	if !(wa.event.ID < e1.ID && e1.ID < e2.ID && e2.ID < e3.ID) {
		t.Errorf("event ids %d, %d, %d, %d: want them growing", wa.event.ID, e1.ID, e2.ID, e3.ID)
	}
	f.view(func(tx sb.Tx) error {
		all, err := tx.EventsSince(ctx, a, 0, 0)
		must(t, "EventsSince", err)
		diff(t, "EventsSince(0)", []*sb.Event{stored(wa.event), stored(e1), stored(e2), stored(e3)}, all)
		after, err := tx.EventsSince(ctx, a, e1.ID, 0)
		must(t, "EventsSince", err)
		diff(t, "EventsSince(e1)", []int64{e2.ID, e3.ID}, idsOfEvents(after))
		first, err := tx.EventsSince(ctx, a, 0, 2)
		must(t, "EventsSince", err)
		diff(t, "EventsSince(0, limit 2)", []int64{wa.event.ID, e1.ID}, idsOfEvents(first))
		ofB, err := tx.EventsSince(ctx, wb.account.ID, 0, 0)
		must(t, "EventsSince", err)
		diff(t, "EventsSince(account B)", []int64{wb.event.ID}, idsOfEvents(ofB))
		if err := tx.AppendEvent(ctx, &sb.Event{AccountID: a, Type: "x"}); err == nil {
			t.Errorf("AppendEvent in a View succeeded")
		}
		return nil
	})
}

// testSubscribe: a subscriber receives its account's committed events, in
// commit order, whole (a large Data too), and neither rolled-back events
// nor other accounts'. Its channel closes when its context ends.
func testSubscribe(t *testing.T, f *fixture) {
	wa, wb := f.world("a"), f.world("b")
	a, b := wa.account.ID, wb.account.ID
	ctx := f.ctx
	ctxA, cancelA := context.WithCancel(ctx)
	defer cancelA()
	subA := f.s.Subscribe(ctxA, a)
	subB := f.s.Subscribe(ctx, b)

	big := json.RawMessage(`{"body":"` + strings.Repeat("x", 20000) + `"}`)
	e1 := &sb.Event{AccountID: a, Type: "one", ConversationID: "c1", Data: json.RawMessage(`{"a": 1}`), CreatedAt: at(1)}
	e2 := &sb.Event{AccountID: a, Type: "two", InboxID: "i1", UserID: "u1", CreatedAt: at(2)}
	e3 := &sb.Event{AccountID: a, Type: "three", Data: big, CreatedAt: at(3)}
	eb := &sb.Event{AccountID: b, Type: "b", CreatedAt: at(4)}
	f.update(a, func(tx sb.Tx) error {
		must(t, "AppendEvent", tx.AppendEvent(ctx, e1))
		return tx.AppendEvent(ctx, e2)
	})
	err := f.s.Update(ctx, a, func(tx sb.Tx) error {
		must(t, "AppendEvent", tx.AppendEvent(ctx, &sb.Event{AccountID: a, Type: "rolled back"}))
		return errBoom
	})
	if err != errBoom {
		t.Fatalf("Update: %v, want errBoom", err)
	}
	f.update(b, func(tx sb.Tx) error { return tx.AppendEvent(ctx, eb) })
	f.update(a, func(tx sb.Tx) error { return tx.AppendEvent(ctx, e3) })

	for _, want := range []*sb.Event{e1, e2, e3} {
		got := receive(t, subA, wa.event.ID)
		diff(t, "event received in account A", stored(want), &got)
	}
	got := receive(t, subB, wb.event.ID)
	diff(t, "event received in account B", stored(eb), &got)

	cancelA()
	waitClosed(t, "after its context ended", subA)
	done, cancel := context.WithCancel(ctx)
	cancel()
	waitClosed(t, "subscribed with an ended context", f.s.Subscribe(done, a))
}

// testSlowSubscriber: a subscriber that does not read loses events once
// its buffer is full, keeping the oldest, without holding up Update or
// other subscribers.
func testSlowSubscriber(t *testing.T, f *fixture) {
	w := f.world("a")
	a := w.account.ID
	ctx := f.ctx
	slow := f.s.Subscribe(ctx, a)
	fast := f.s.Subscribe(ctx, a)
	const batches, perBatch = 15, 100 // more than a subscription's buffer
	const n = batches * perBatch
	var received atomic.Int64
	got := make(chan []int64, 1)
	go func() {
		var ids []int64
		defer func() { got <- ids }()
		for len(ids) < n {
			select {
			case e := <-fast:
				if e.ID <= w.event.ID {
					continue // committed before Subscribe
				}
				ids = append(ids, e.ID)
				received.Add(1)
			case <-time.After(eventTimeout):
				return
			}
		}
	}()
	var want []int64
	for b := range batches {
		f.update(a, func(tx sb.Tx) error {
			for i := range perBatch {
				e := &sb.Event{AccountID: a, Type: "bulk", Data: json.RawMessage(`{"i":` + strconv.Itoa(i) + `}`)}
				if err := tx.AppendEvent(ctx, e); err != nil {
					return err
				}
				want = append(want, e.ID)
			}
			return nil
		})
		// The reading subscriber keeps up (its buffer never fills); the
		// slow one does not read at all.
		for deadline := time.Now().Add(eventTimeout); received.Load() < int64((b+1)*perBatch) && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	}
	diff(t, "events received by the reading subscriber", want, <-got)
	kept := 0
	var lastKept int64
	for len(slow) > 0 {
		e := <-slow
		if e.ID <= w.event.ID {
			continue // committed before Subscribe
		}
		if kept == 0 && e.ID != want[0] {
			t.Errorf("slow subscriber's first event = %d, want the oldest, %d", e.ID, want[0])
		}
		kept++
		lastKept = e.ID
	}
	if kept == 0 || kept >= n {
		t.Fatalf("slow subscriber kept %d of %d events: want the oldest kept and the rest dropped once its buffer is full", kept, n)
	}
	// With room again, the slow subscriber is told where its gap starts,
	// before the next event; the log after that point holds what it missed.
	next := &sb.Event{AccountID: a, Type: "after"}
	f.update(a, func(tx sb.Tx) error { return tx.AppendEvent(ctx, next) })
	var gap, after sb.Event
	for _, e := range []*sb.Event{&gap, &after} {
		select {
		case *e = <-slow:
		case <-time.After(eventTimeout):
			t.Fatal("the slow subscriber got nothing after its buffer emptied")
		}
	}
	if gap.Type != sb.EventGap || gap.ID != lastKept || after.ID != next.ID {
		t.Fatalf("after the loss: %s %d then %s %d; want %s %d (the last kept event), then event %d",
			gap.Type, gap.ID, after.Type, after.ID, sb.EventGap, lastKept, next.ID)
	}
	f.view(func(tx sb.Tx) error {
		missed, err := tx.EventsSince(ctx, a, gap.ID, n)
		must(t, "EventsSince", err)
		var ids []int64
		for _, e := range missed {
			ids = append(ids, e.ID)
		}
		diff(t, "events after the gap marker", append(slices.Clone(want[kept:]), next.ID), ids)
		return nil
	})
}

// testSerialised: 16 goroutines × 25 Updates each read a counter (a team's
// name) and write it + 1. Only if Update holds the account's lock from its
// first read to its commit does the count end exact (R-X7).
func testSerialised(t *testing.T, f *fixture) {
	w := f.world("a")
	a, id := w.account.ID, w.team.ID
	ctx := f.ctx
	f.update(a, func(tx sb.Tx) error {
		w.team.Name = "0"
		return tx.UpdateTeam(ctx, w.team)
	})
	const goroutines, updates = 16, 25
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range updates {
				err := f.s.Update(ctx, a, func(tx sb.Tx) error {
					tm, err := tx.Team(ctx, a, id)
					if err != nil {
						return err
					}
					n, err := strconv.Atoi(tm.Name)
					if err != nil {
						return err
					}
					runtime.Gosched() // invite another Update in, were there no lock
					tm.Name = strconv.Itoa(n + 1)
					return tx.UpdateTeam(ctx, tm)
				})
				if err != nil {
					t.Errorf("Update: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	f.view(func(tx sb.Tx) error {
		tm, err := tx.Team(ctx, a, id)
		must(t, "Team", err)
		if want := strconv.Itoa(goroutines * updates); tm.Name != want {
			t.Errorf("counter = %s after %d read-modify-write Updates, want %s: Update does not serialise the account",
				tm.Name, goroutines*updates, want)
		}
		return nil
	})
}

// testCredentialsChanged: the hooks get a transaction's credentials
// changes once it commits, in order, and nothing of one that rolls back.
func testCredentialsChanged(t *testing.T, f *fixture) {
	a := f.account("a").ID
	var mu sync.Mutex
	var got []sb.CredentialsChange
	f.s.OnCredentialsChanged(func(c sb.CredentialsChange) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, c)
	})
	err := f.s.Update(f.ctx, a, func(tx sb.Tx) error {
		tx.CredentialsChanged(sb.CredentialsChange{UserID: "never"})
		return errors.New("rolled back")
	})
	if err == nil {
		t.Fatal("the Update that should roll back succeeded")
	}
	want := []sb.CredentialsChange{{UserID: "u1"}, {TokenHash: "h1"}}
	f.update(a, func(tx sb.Tx) error {
		for _, c := range want {
			tx.CredentialsChanged(c)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 0 {
			t.Errorf("hooks called before commit: %+v", got)
		}
		return nil
	})
	// PostgreSQL delivers them here at once and again through the
	// listener, in either order.
	deadline := time.Now().Add(eventTimeout)
	for {
		mu.Lock()
		seen := slices.Clone(got)
		mu.Unlock()
		for _, c := range seen {
			if c.UserID == "never" {
				t.Fatalf("a rolled back change was delivered: %+v", seen)
			}
		}
		if slices.Contains(seen, want[0]) && slices.Contains(seen, want[1]) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("credentials changes after commit: %+v, want %+v", seen, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
