package app_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/internal/pgtest"
	"github.com/switchboard-dev/switchboard/sqlstore"
)

// waitDecisions polls the routing record until it has n decisions.
func waitDecisions(t *testing.T, svc *app.Service, a app.Actor, convID string, n int) []*sb.Decision {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ds := must(svc.RoutingRecord(context.Background(), a, convID))(t)
		if len(ds) >= n {
			if len(ds) > n {
				t.Fatalf("routing record has %d decisions, want %d: %+v", len(ds), n, ds)
			}
			return ds
		}
		if time.Now().After(deadline) {
			t.Fatalf("routing record has %d decisions after 5 s, want %d", len(ds), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func timerRule(minutes int, users ...app.Actor) sb.RoutingRule {
	r := specific(users...)
	r.ReplyTimerMinutes = minutes
	return r
}

// Rule R-X3: unanswered, a conversation hops to the next candidate not yet
// tried, then back to Unassigned with a team notification; every hop is
// in the routing record (R-A12).
func TestReplyTimerHops(t *testing.T) {
	forEachDB(t, func(t *testing.T, e0 *env) {
		e := newEnvWith(t, dsnOf(t, e0), func(cfg *app.Config, _ func() *app.Service) { fastJobs(cfg) })
		ann, ben, cleo := e.agent("ann", 0), e.agent("ben", 0), e.agent("cleo", 0)
		ch := e.channel(sb.KindChat, timerRule(10, ann, ben, cleo))
		r := must(e.svc.Inbound(e.ctx, e.admin, ch.ID, app.InboundInput{Contact: app.InboundContact{VisitorToken: "v1"}, Body: "anyone?"}))(t)
		first := r.Conversation.AssigneeID
		tried := map[string]bool{first: true}
		for hop := 2; hop <= 3; hop++ {
			e.clock.Add(9 * time.Minute)
			time.Sleep(30 * time.Millisecond)
			if ds := must(e.svc.RoutingRecord(e.ctx, e.admin, r.Conversation.ID))(t); len(ds) != hop-1 {
				t.Fatalf("hop %d: the timer fired before its 10 minutes (%d decisions)", hop, len(ds))
			}
			e.clock.Add(time.Minute)
			ds := waitDecisions(t, e.svc, e.admin, r.Conversation.ID, hop)
			d := ds[hop-1]
			if d.Trigger != sb.TriggerReplyTimer || d.AssigneeID == "" || tried[d.AssigneeID] {
				t.Fatalf("hop %d = %+v, want a reply_timer decision to someone not tried yet (%v)", hop, d, tried)
			}
			if !strings.Contains(d.Reason, "did not reply within 10 minutes") {
				t.Errorf("hop %d reason %q does not say why", hop, d.Reason)
			}
			tried[d.AssigneeID] = true
		}
		e.clock.Add(10 * time.Minute)
		ds := waitDecisions(t, e.svc, e.admin, r.Conversation.ID, 4)
		if last := ds[3]; last.Outcome == sb.OutcomeAssigned || last.AssigneeID != "" {
			t.Fatalf("after everyone was tried: %+v, want unassigned", last)
		}
		conv := must(e.svc.GetConversation(e.ctx, e.admin, r.Conversation.ID))(t)
		if conv.AssigneeID != "" {
			t.Fatalf("conversation still with %s", conv.AssigneeID)
		}
		users := must(e.svc.ListUsers(e.ctx, e.admin))(t)
		for _, u := range users {
			if u.OpenChats != 0 {
				t.Errorf("%s has %d open chats after the hops, want 0 (load moved with each hop)", u.Name, u.OpenChats)
			}
		}
		var notified bool
		must(0, e.store.View(e.ctx, func(tx sb.Tx) error {
			es, err := tx.EventsSince(e.ctx, e.admin.AccountID, 0, 500)
			for _, ev := range es {
				notified = notified || (ev.Type == app.EventTeamNotification && ev.ConversationID == conv.ID)
			}
			return err
		}))(t)
		if !notified {
			t.Fatal("the team was not notified when the conversation went back to Unassigned")
		}
	})
}

// Rule R-X3: a reply cancels the timer; it works for email as for chat
// (email picks at random among the candidates not tried).
func TestReplyTimerCancelledByReplyAndWorksForEmail(t *testing.T) {
	forEachDB(t, func(t *testing.T, e0 *env) {
		e := newEnvWith(t, dsnOf(t, e0), func(cfg *app.Config, _ func() *app.Service) { fastJobs(cfg) })
		ann, ben := e.agent("ann", 0), e.agent("ben", 0)
		ch := e.channel(sb.KindEmail, timerRule(30, ann, ben))
		answered := e.inbound(ch.ID, "a@x.test", "question one")
		ignored := e.inbound(ch.ID, "b@x.test", "question two")
		who := map[string]app.Actor{ann.UserID: ann, ben.UserID: ben}
		e.clock.Add(5 * time.Minute)
		must(e.svc.Reply(e.ctx, who[answered.Conversation.AssigneeID], answered.Conversation.ID, app.ReplyInput{Body: "on it"}))(t)
		e.clock.Add(30 * time.Minute)
		ds := waitDecisions(t, e.svc, e.admin, ignored.Conversation.ID, 2)
		if ds[1].AssigneeID == ignored.Conversation.AssigneeID || ds[1].AssigneeID == "" {
			t.Fatalf("email hop went to %q, want the other agent than %q", ds[1].AssigneeID, ignored.Conversation.AssigneeID)
		}
		time.Sleep(50 * time.Millisecond)
		if ds := must(e.svc.RoutingRecord(e.ctx, e.admin, answered.Conversation.ID))(t); len(ds) != 1 {
			t.Fatalf("the answered conversation was routed again: %+v", ds)
		}
	})
}

// Rule R-X3: timers are stored, so one set before a restart fires after
// it; with two processes on one PostgreSQL database it fires once.
func TestReplyTimerDurableAndOnce(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dsn := "sqlite:" + filepath.Join(t.TempDir(), "timer.db")
			if db == "postgres" {
				dsn = pgtest.DSN(t)
			}
			e := newEnvWith(t, dsn, func(cfg *app.Config, _ func() *app.Service) { fastJobs(cfg) })
			ann, ben := e.agent("ann", 0), e.agent("ben", 0)
			ch := e.channel(sb.KindChat, timerRule(10, ann, ben))
			r := must(e.svc.Inbound(e.ctx, e.admin, ch.ID, app.InboundInput{Contact: app.InboundContact{VisitorToken: "v"}, Body: "hi"}))(t)
			e.svc.Close() // the process stops with the timer pending

			processes := 1
			if db == "postgres" {
				processes = 2
			}
			var svcs []*app.Service
			for range processes {
				st, err := sqlstore.Open(context.Background(), dsn, slog.New(slog.DiscardHandler))
				if err != nil {
					t.Fatal(err)
				}
				clk := &clock{now: e.clock.Now().Add(11 * time.Minute)}
				svc := app.New(app.Config{Store: st, Now: clk.Now, JobPoll: 5 * time.Millisecond})
				svc.Start(context.Background())
				t.Cleanup(func() { svc.Close(); st.Close() })
				svcs = append(svcs, svc)
			}
			ds := waitDecisions(t, svcs[0], e.admin, r.Conversation.ID, 2)
			if ds[1].Trigger != sb.TriggerReplyTimer || ds[1].AssigneeID == r.Conversation.AssigneeID {
				t.Fatalf("after the restart: %+v, want one reply-timer hop to the other agent", ds[1])
			}
			time.Sleep(100 * time.Millisecond) // give a second firing every chance to show
			waitDecisions(t, svcs[0], e.admin, r.Conversation.ID, 2)
		})
	}
}

// Rule R-X3: the timer's setting is validated with the field named.
func TestReplyTimerSettingValidated(t *testing.T) {
	e := newEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "v.db"))
	ann := e.agent("ann", 0)
	for _, n := range []int{-1, 7*24*60 + 1} {
		rule := timerRule(n, ann)
		_, err := e.svc.CreateChannel(e.ctx, e.admin, "", app.ChannelInput{Kind: sb.KindChat, Name: "c", Routing: &rule, NewInbox: &app.InboxInput{Name: "i"}})
		var se *sb.Error
		if !sb.IsKind(err, sb.Invalid) || !errors.As(err, &se) || se.Field != "routing.reply_timer_minutes" {
			t.Errorf("reply_timer_minutes %d: err = %v, want Invalid on routing.reply_timer_minutes", n, err)
		}
	}
}
