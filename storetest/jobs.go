package storetest

import (
	"encoding/json"
	"sort"
	"sync"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

var jobTests = []namedTest{
	{"Jobs/EnqueueClaimFinish", testJobLifecycle},
	{"Jobs/KeyReplacesPending", testJobKey},
	{"Jobs/ExpiredLeaseIsTakenAgain", testJobLease},
	{"Jobs/ConcurrentClaimsNeverShare", testJobConcurrentClaims},
	{"Messages/Delivery", testMessageDelivery},
}

func testJobLifecycle(t *testing.T, f *fixture) {
	a, b := f.account("a"), f.account("b")
	later := &sb.Job{AccountID: a.ID, Kind: "mail.send", Payload: json.RawMessage(`{"to":["x@example.com"]}`), RunAt: at(10)}
	due := &sb.Job{AccountID: b.ID, Kind: "mail.send", Payload: json.RawMessage(`{"n":1}`), RunAt: at(1)}
	f.update(a.ID, func(tx sb.Tx) error {
		must(t, "EnqueueJob", tx.EnqueueJob(f.ctx, later))
		must(t, "EnqueueJob", tx.EnqueueJob(f.ctx, due))
		return nil
	})
	if later.ID == "" || later.Status != sb.JobPending {
		t.Fatalf("enqueued job = %+v, want an id and pending", later)
	}
	var claimed []*sb.Job
	f.update("", func(tx sb.Tx) error {
		var err error
		claimed, err = tx.ClaimJobs(f.ctx, at(5), time.Minute, 10)
		must(t, "ClaimJobs", err)
		return nil
	})
	if len(claimed) != 1 || claimed[0].ID != due.ID {
		t.Fatalf("claimed at minute 5 = %v, want only the due job %s (any account)", jobIDs(claimed), due.ID)
	}
	j := claimed[0]
	if j.Status != sb.JobRunning || j.Attempts != 1 || !j.LockedUntil.Equal(us(at(6))) || string(j.Payload) != `{"n":1}` {
		t.Fatalf("claimed job = %+v, want running, 1 attempt, leased until minute 6, payload kept", j)
	}
	// Claimed jobs are not claimed again while leased.
	f.update("", func(tx sb.Tx) error {
		again, err := tx.ClaimJobs(f.ctx, at(5).Add(30*time.Second), time.Minute, 10)
		must(t, "ClaimJobs", err)
		if len(again) != 0 {
			t.Errorf("claimed again during the lease: %v", jobIDs(again))
		}
		j.Status, j.LastError, j.UpdatedAt, j.LockedUntil = sb.JobDone, "", at(5), time.Time{}
		must(t, "UpdateJob", tx.UpdateJob(f.ctx, j))
		return nil
	})
	f.view(func(tx sb.Tx) error {
		got, err := tx.Job(f.ctx, b.ID, due.ID)
		must(t, "Job", err)
		if got.Status != sb.JobDone || got.Attempts != 1 {
			t.Errorf("finished job = %+v, want done after 1 attempt", got)
		}
		if _, err := tx.Job(f.ctx, a.ID, due.ID); !sb.IsKind(err, sb.NotFound) {
			t.Errorf("another account's job: err = %v, want NotFound", err)
		}
		list, err := tx.Jobs(f.ctx, a.ID, "mail.send", 10)
		must(t, "Jobs", err)
		if len(list) != 1 || list[0].ID != later.ID {
			t.Errorf("Jobs(a) = %v, want only %s", jobIDs(list), later.ID)
		}
		return nil
	})
}

func testJobKey(t *testing.T, f *fixture) {
	a := f.account("a")
	first := &sb.Job{AccountID: a.ID, Kind: "timer.reply", Key: "conv-1", Payload: json.RawMessage(`{"v":1}`), RunAt: at(10)}
	second := &sb.Job{AccountID: a.ID, Kind: "timer.reply", Key: "conv-1", Payload: json.RawMessage(`{"v":2}`), RunAt: at(20)}
	other := &sb.Job{AccountID: a.ID, Kind: "timer.reply", Key: "conv-2", RunAt: at(10)}
	f.update(a.ID, func(tx sb.Tx) error {
		for _, j := range []*sb.Job{first, second, other} {
			must(t, "EnqueueJob", tx.EnqueueJob(f.ctx, j))
		}
		return nil
	})
	if second.ID != first.ID || other.ID == first.ID {
		t.Fatalf("ids: first %s, second %s, other %s; want the same key to update one pending job", first.ID, second.ID, other.ID)
	}
	f.update(a.ID, func(tx sb.Tx) error {
		got, err := tx.Job(f.ctx, a.ID, first.ID)
		must(t, "Job", err)
		if string(got.Payload) != `{"v":2}` || !got.RunAt.Equal(us(at(20))) {
			t.Errorf("replaced job = payload %s run at %v, want the second's", got.Payload, got.RunAt)
		}
		n, err := tx.CancelJobs(f.ctx, a.ID, "timer.reply", "conv-1")
		must(t, "CancelJobs", err)
		if n != 1 {
			t.Errorf("CancelJobs = %d, want 1", n)
		}
		n, err = tx.CancelJobs(f.ctx, a.ID, "timer.reply", "conv-1")
		must(t, "CancelJobs", err)
		if n != 0 {
			t.Errorf("second CancelJobs = %d, want 0", n)
		}
		return nil
	})
	f.update("", func(tx sb.Tx) error {
		claimed, err := tx.ClaimJobs(f.ctx, at(30), time.Minute, 10)
		must(t, "ClaimJobs", err)
		if len(claimed) != 1 || claimed[0].ID != other.ID {
			t.Errorf("claimed = %v, want only the uncancelled %s", jobIDs(claimed), other.ID)
		}
		return nil
	})
	// A new job with a cancelled job's key is a new job.
	again := &sb.Job{AccountID: a.ID, Kind: "timer.reply", Key: "conv-1", RunAt: at(40)}
	f.update(a.ID, func(tx sb.Tx) error { return tx.EnqueueJob(f.ctx, again) })
	if again.ID == first.ID {
		t.Errorf("enqueuing after cancel reused the cancelled job %s", first.ID)
	}
}

func testJobLease(t *testing.T, f *fixture) {
	a := f.account("a")
	j := &sb.Job{AccountID: a.ID, Kind: "k", RunAt: at(0)}
	f.update(a.ID, func(tx sb.Tx) error { return tx.EnqueueJob(f.ctx, j) })
	claim := func(now time.Time) []*sb.Job {
		var got []*sb.Job
		f.update("", func(tx sb.Tx) error {
			var err error
			got, err = tx.ClaimJobs(f.ctx, now, 2*time.Minute, 10)
			must(t, "ClaimJobs", err)
			return nil
		})
		return got
	}
	if got := claim(at(1)); len(got) != 1 {
		t.Fatalf("first claim = %v, want the job", jobIDs(got))
	}
	if got := claim(at(2)); len(got) != 0 {
		t.Fatalf("claim inside the lease = %v, want none", jobIDs(got))
	}
	// The process that held it died: after the lease the job runs again.
	got := claim(at(4))
	if len(got) != 1 || got[0].Attempts != 2 {
		t.Fatalf("claim after the lease = %+v, want the job with 2 attempts", got)
	}
}

// testJobConcurrentClaims: claimers racing (other processes on
// PostgreSQL) each get distinct jobs, and together all of them.
func testJobConcurrentClaims(t *testing.T, f *fixture) {
	a := f.account("a")
	const n = 40
	f.update(a.ID, func(tx sb.Tx) error {
		for i := range n {
			must(t, "EnqueueJob", tx.EnqueueJob(f.ctx, &sb.Job{AccountID: a.ID, Kind: "k", RunAt: at(i % 5)}))
		}
		return nil
	})
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				var got []*sb.Job
				err := f.s.Update(f.ctx, "", func(tx sb.Tx) error {
					var err error
					got, err = tx.ClaimJobs(f.ctx, at(10), time.Minute, 3)
					return err
				})
				if err != nil {
					t.Errorf("ClaimJobs: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, j := range got {
					seen[j.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("claimed %d distinct jobs, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("job %s claimed %d times", id, c)
		}
	}
}

func testMessageDelivery(t *testing.T, f *fixture) {
	a := f.account("a")
	in := f.inbox(a.ID, "in")
	ch := f.channel(a.ID, in.ID, sb.KindEmail)
	conv := f.conversation(ch, f.contact(a.ID, "c@example.com"))
	m := &sb.Message{AccountID: a.ID, ConversationID: conv.ID, ChannelID: ch.ID, Direction: sb.DirectionOut,
		AuthorUserID: "u1", Body: "Hello", Delivery: sb.DeliveryQueued, CreatedAt: at(1)}
	f.update(a.ID, func(tx sb.Tx) error { return tx.CreateMessage(f.ctx, m) })
	f.update(a.ID, func(tx sb.Tx) error {
		got, err := tx.Message(f.ctx, a.ID, m.ID)
		must(t, "Message", err)
		if got.Delivery != sb.DeliveryQueued || got.ExternalID != "" {
			t.Errorf("stored = %+v, want queued without external id", got)
		}
		must(t, "SetMessageDelivery", tx.SetMessageDelivery(f.ctx, a.ID, m.ID, sb.DeliverySent, "", "<sent-1@example.com>"))
		must(t, "SetMessageDelivery", tx.SetMessageDelivery(f.ctx, a.ID, m.ID, sb.DeliverySent, "read", ""))
		if err := tx.SetMessageDelivery(f.ctx, a.ID, "missing", sb.DeliverySent, "", ""); !sb.IsKind(err, sb.NotFound) {
			t.Errorf("SetMessageDelivery(missing) = %v, want NotFound", err)
		}
		return nil
	})
	f.view(func(tx sb.Tx) error {
		got, err := tx.Message(f.ctx, a.ID, m.ID)
		must(t, "Message", err)
		if got.Delivery != sb.DeliverySent || got.DeliveryDetail != "read" || got.ExternalID != "<sent-1@example.com>" {
			t.Errorf("after delivery = %+v, want sent, detail read, external id kept from the first call", got)
		}
		if _, err := tx.Message(f.ctx, "other", m.ID); !sb.IsKind(err, sb.NotFound) {
			t.Errorf("Message from another account: err = %v, want NotFound", err)
		}
		return nil
	})
}

func jobIDs(js []*sb.Job) []string {
	ids := make([]string, len(js))
	for i, j := range js {
		ids[i] = j.ID
	}
	sort.Strings(ids)
	return ids
}
