package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/internal/pgtest"
	"github.com/switchboard-dev/switchboard/sqlstore"
)

// fastJobs makes the worker poll often.
func fastJobs(cfg *app.Config) { cfg.JobPoll = 10 * time.Millisecond; cfg.JobBackoff = time.Minute }

// waitJob polls the job until cond holds or 5 s pass.
func (e *env) waitJob(id string, cond func(j *sb.Job) bool) *sb.Job {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var j *sb.Job
		err := e.store.View(e.ctx, func(tx sb.Tx) error {
			var err error
			j, err = tx.Job(e.ctx, e.admin.AccountID, id)
			return err
		})
		if err != nil {
			e.t.Fatalf("Job(%s): %v", id, err)
		}
		if cond(j) {
			return j
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("job %s did not reach the expected state; last: %+v", id, j)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *env) enqueue(j *sb.Job) *sb.Job {
	e.t.Helper()
	j.AccountID = e.admin.AccountID
	if err := e.svc.Update(e.ctx, e.admin.AccountID, func(tx sb.Tx) error { return e.svc.Enqueue(e.ctx, tx, j) }); err != nil {
		e.t.Fatalf("Enqueue: %v", err)
	}
	return j
}

// A failing job is retried with exponential backoff on the service's
// clock, then succeeds; a permanent error fails it at once.
func TestJobsRetryWithBackoff(t *testing.T) {
	forEachDB(t, func(t *testing.T, e0 *env) {
		var calls atomic.Int32
		e := newEnvWith(t, dsnOf(t, e0), func(cfg *app.Config, build func() *app.Service) {
			fastJobs(cfg)
			svc := build()
			svc.HandleJobs("flaky", func(ctx context.Context, j *sb.Job) error {
				if calls.Add(1) <= 2 {
					return errors.New("relay said 451 try later")
				}
				return nil
			})
			svc.HandleJobs("doomed", func(ctx context.Context, j *sb.Job) error {
				return app.Permanent(errors.New("550 no such user"))
			})
		})
		start := e.clock.Now()
		j := e.enqueue(&sb.Job{Kind: "flaky", Payload: json.RawMessage(`{}`)})
		got := e.waitJob(j.ID, func(j *sb.Job) bool { return j.Attempts == 1 && j.Status == sb.JobPending })
		if want := start.Add(time.Minute); !got.RunAt.Equal(want) || got.LastError != "relay said 451 try later" {
			t.Fatalf("after the first failure: run at %v (want %v), last error %q", got.RunAt, want, got.LastError)
		}
		e.clock.Add(time.Minute)
		got = e.waitJob(j.ID, func(j *sb.Job) bool { return j.Attempts == 2 && j.Status == sb.JobPending })
		if want := start.Add(3 * time.Minute); !got.RunAt.Equal(want) {
			t.Fatalf("after the second failure: run at %v, want %v (the wait doubled)", got.RunAt, want)
		}
		e.clock.Add(time.Minute)
		time.Sleep(50 * time.Millisecond) // not due yet: nothing runs
		if n := calls.Load(); n != 2 {
			t.Fatalf("handler ran %d times before the retry was due, want 2", n)
		}
		e.clock.Add(time.Minute)
		got = e.waitJob(j.ID, func(j *sb.Job) bool { return j.Status == sb.JobDone })
		if got.Attempts != 3 || got.LastError != "" {
			t.Fatalf("done job = %+v, want 3 attempts and no error", got)
		}

		d := e.enqueue(&sb.Job{Kind: "doomed"})
		got = e.waitJob(d.ID, func(j *sb.Job) bool { return j.Status != sb.JobPending && j.Status != sb.JobRunning })
		if got.Status != sb.JobFailed || got.Attempts != 1 || got.LastError != "550 no such user" {
			t.Fatalf("permanent failure = %+v, want failed after 1 attempt with the reason", got)
		}
		u := e.enqueue(&sb.Job{Kind: "unknown.kind"})
		got = e.waitJob(u.ID, func(j *sb.Job) bool { return j.Status == sb.JobFailed })
		if got.LastError == "" {
			t.Fatal("a job without a handler failed without saying why")
		}
	})
}

// dsnOf gives a fresh database of e0's kind, for tests that configure
// their own service.
func dsnOf(t *testing.T, e0 *env) string {
	if e0.store.Dialect() == "sqlite" {
		return "sqlite:" + filepath.Join(t.TempDir(), "jobs.db")
	}
	return pgtest.DSN(t)
}

// A job committed by one process and not yet run survives its stop and
// runs in the next process.
func TestJobsSurviveRestart(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dsn := "sqlite:" + filepath.Join(t.TempDir(), "restart.db")
			if db == "postgres" {
				dsn = pgtest.DSN(t)
			}
			first := newEnvWith(t, dsn, func(cfg *app.Config, _ func() *app.Service) { fastJobs(cfg) })
			j := first.enqueue(&sb.Job{Kind: "later", RunAt: first.clock.Now().Add(time.Hour), Payload: json.RawMessage(`{"n":42}`)})
			first.svc.Close()

			ran := make(chan string, 1)
			st, err := sqlstore.Open(context.Background(), dsn, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			clk := &clock{now: first.clock.Now().Add(2 * time.Hour)}
			svc := app.New(app.Config{Store: st, Now: clk.Now, JobPoll: 10 * time.Millisecond})
			svc.HandleJobs("later", func(ctx context.Context, j *sb.Job) error { ran <- string(j.Payload); return nil })
			svc.Start(context.Background())
			t.Cleanup(func() { svc.Close(); st.Close() })
			select {
			case p := <-ran:
				if p != `{"n":42}` {
					t.Fatalf("payload after restart = %s", p)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("job %s did not run after the restart", j.ID)
			}
		})
	}
}

// Replies through a channel with an Outbound: Check may refuse (nothing
// is written), JobKind queues the send and the handler's MarkDelivered
// shows up on the message.
func TestReplyGoesOutThroughTheChannelsOutbound(t *testing.T) {
	forEachDB(t, func(t *testing.T, e0 *env) {
		var refuse atomic.Bool
		var svcRef *app.Service
		e := newEnvWith(t, dsnOf(t, e0), func(cfg *app.Config, build func() *app.Service) {
			fastJobs(cfg)
			svc := build()
			svcRef = svc
			svc.RegisterOutbound(sb.KindMessenger, app.Outbound{
				Check: func(ctx context.Context, tx sb.Tx, ch *sb.Channel, c *sb.Conversation, now time.Time) error {
					if refuse.Load() {
						return sb.E("test.Check", sb.RuleViolation, "outside_reply_window", "the contact's last message is older than 24 hours")
					}
					return nil
				},
				JobKind: "test.send",
			})
			svc.HandleJobs("test.send", func(ctx context.Context, j *sb.Job) error {
				var p app.SendPayload
				if err := json.Unmarshal(j.Payload, &p); err != nil {
					return app.Permanent(err)
				}
				o, err := svcRef.Outgoing(ctx, j.AccountID, p.MessageID)
				if err != nil {
					return err
				}
				if o.Contact.ID != o.Conversation.ContactID || o.Channel.ID != p.ChannelID || len(o.Thread) != 2 || o.Author == nil {
					return app.Permanent(fmt.Errorf("outgoing = %+v", o))
				}
				return svcRef.MarkDelivered(ctx, j.AccountID, p.MessageID, "mid.123")
			})
		})
		ann := e.agent("ann", 0)
		ch := e.channel(sb.KindMessenger, sb.RoutingRule{})
		r := must(e.svc.Inbound(e.ctx, e.admin, ch.ID, app.InboundInput{Contact: app.InboundContact{VisitorToken: "messenger:1:2"}, Body: "hi"}))(t)

		refuse.Store(true)
		_, err := e.svc.Reply(e.ctx, ann, r.Conversation.ID, app.ReplyInput{Body: "too late"})
		if !sb.IsKind(err, sb.RuleViolation) {
			t.Fatalf("refused reply: err = %v, want RuleViolation", err)
		}
		msgs := must(e.svc.Messages(e.ctx, e.admin, r.Conversation.ID))(t)
		conv := must(e.svc.GetConversation(e.ctx, e.admin, r.Conversation.ID))(t)
		if len(msgs) != 1 || conv.AssigneeID != "" {
			t.Fatalf("a refused reply wrote something: %d messages, assignee %q", len(msgs), conv.AssigneeID)
		}

		refuse.Store(false)
		res := must(e.svc.Reply(e.ctx, ann, r.Conversation.ID, app.ReplyInput{Body: "hello from Ann"}))(t)
		if res.Message.Delivery != sb.DeliveryQueued {
			t.Fatalf("reply delivery = %q, want queued", res.Message.Delivery)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			msgs = must(e.svc.Messages(e.ctx, e.admin, r.Conversation.ID))(t)
			if m := msgs[len(msgs)-1]; m.Delivery == sb.DeliverySent {
				if m.ExternalID != "mid.123" {
					t.Fatalf("sent message external id = %q, want the platform's", m.ExternalID)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("reply never marked sent: %+v", msgs[len(msgs)-1])
			}
			time.Sleep(5 * time.Millisecond)
		}
		note := must(e.svc.Reply(e.ctx, ann, r.Conversation.ID, app.ReplyInput{Body: "note", Internal: true}))(t)
		if note.Message.Delivery != "" {
			t.Fatalf("an internal note was queued for sending: %+v", note.Message)
		}
		var events []string
		must(0, e.store.View(e.ctx, func(tx sb.Tx) error {
			es, err := tx.EventsSince(e.ctx, e.admin.AccountID, 0, 100)
			for _, ev := range es {
				events = append(events, ev.Type)
			}
			return err
		}))(t)
		if !contains(events, app.EventMessageDelivery) {
			t.Fatalf("events %v lack %s", events, app.EventMessageDelivery)
		}
	})
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// Threading inputs of the channel adapters: ConversationID continues a
// conversation (reopening a closed one, R-X4), NewThread starts one.
func TestInboundThreads(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann := e.agent("ann", 0)
		ch := e.channel(sb.KindEmail, specific(ann))
		other := e.channel(sb.KindEmail, specific(ann))
		deliver := func(chID string, in app.InboundInput) *app.InboundResult {
			t.Helper()
			in.Contact = app.InboundContact{Email: "c@x.test"}
			if in.Body == "" {
				in.Body = "text"
			}
			return must(e.svc.Inbound(e.ctx, e.admin, chID, in))(t)
		}
		first := deliver(ch.ID, app.InboundInput{Subject: "Invoice", Meta: json.RawMessage(`{"message_id":"<a@x.test>"}`)})
		if string(first.Message.Meta) != `{"message_id":"<a@x.test>"}` {
			t.Fatalf("meta = %s", first.Message.Meta)
		}
		second := deliver(ch.ID, app.InboundInput{Subject: "Another question", NewThread: true})
		if second.Conversation.ID == first.Conversation.ID {
			t.Fatal("NewThread joined the open conversation")
		}
		reply := deliver(ch.ID, app.InboundInput{ConversationID: first.Conversation.ID})
		if reply.Conversation.ID != first.Conversation.ID {
			t.Fatal("ConversationID did not continue the conversation")
		}
		must(e.svc.SetOpen(e.ctx, e.admin, first.Conversation.ID, false))(t)
		// Rule R-X4: a reply in a closed thread reopens it and goes to the
		// previous assignee, still a candidate.
		again := deliver(ch.ID, app.InboundInput{ConversationID: first.Conversation.ID})
		if again.Conversation.ID != first.Conversation.ID || again.Conversation.Status != sb.StatusOpen || again.Conversation.AssigneeID != ann.UserID {
			t.Fatalf("reply to a closed thread = %+v, want it reopened and with ann", again.Conversation)
		}
		if again.Decision == nil || again.Decision.Trigger != sb.TriggerReturning {
			t.Fatalf("decision = %+v, want a returning decision", again.Decision)
		}
		// An automatic answer (an out-of-office) in the thread of a closed
		// conversation is stored in it and leaves it closed; in an open one
		// it is a message like any other.
		must(e.svc.SetOpen(e.ctx, e.admin, first.Conversation.ID, false))(t)
		auto := deliver(ch.ID, app.InboundInput{ConversationID: first.Conversation.ID, AutoReply: true, Body: "I am away"})
		if auto.Conversation.ID != first.Conversation.ID || auto.Conversation.Status != sb.StatusClosed || auto.Decision != nil {
			t.Fatalf("out-of-office to a closed thread = %+v (decision %+v), want it filed in the closed conversation", auto.Conversation, auto.Decision)
		}
		msgs := must(e.svc.Messages(e.ctx, e.admin, first.Conversation.ID))(t)
		if last := msgs[len(msgs)-1]; last.ID != auto.Message.ID || last.Body != "I am away" {
			t.Fatalf("the conversation's last message is %+v, want the out-of-office", last)
		}
		if c := must(e.svc.GetConversation(e.ctx, e.admin, first.Conversation.ID))(t); c.Status != sb.StatusClosed {
			t.Fatalf("after an out-of-office the conversation is %s, want closed", c.Status)
		}
		stray := deliver(other.ID, app.InboundInput{ConversationID: first.Conversation.ID})
		if stray.Conversation.ID == first.Conversation.ID || stray.Conversation.ChannelID != other.ID {
			t.Fatal("a conversation of another channel was continued")
		}
	})
}
