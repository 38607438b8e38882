package email_test

import (
	"log/slog"
	"net"
	"net/smtp"
	"os"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/email"
	"github.com/switchboard-dev/switchboard/internal/smtpsink"
	"github.com/switchboard-dev/switchboard/sqlstore"
)

// TestDeliveryFailures: a relay's 5xx marks the reply failed with the
// reason at once; a 4xx is retried until it goes through; a bounce of a
// sent reply marks it failed.
func TestDeliveryFailures(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		ada := e.agent("Ada Lovelace")
		e.emailChannel(`{"address":"support@acme.test","from_name_mode":"company","signature":"<b>{{first_name}}</b> of Acme","signature_html":true}`, specific(ada))
		e.mustSend("alice@example.com", []string{"support@acme.test"}, mail("alice@example.com", "support@acme.test", "Help", "h1@example.com", "", "Help me"))
		c := e.conversations()[0]

		e.sink.Refuse(550, "5.1.1 mailbox unavailable")
		rep, err := e.svc.Reply(e.ctx, ada, c.ID, app.ReplyInput{Body: "Hello"})
		if err != nil {
			t.Fatal(err)
		}
		failed := e.waitDelivery(c.ID, rep.Message.ID, sb.DeliveryFailed)
		if !strings.Contains(failed.DeliveryDetail, "mailbox unavailable") {
			t.Errorf("delivery detail = %q, want the relay's reason", failed.DeliveryDetail)
		}

		e.sink.Refuse(451, "4.3.0 try later")
		rep, err = e.svc.Reply(e.ctx, ada, c.ID, app.ReplyInput{Body: "Second try"})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for e.sink.Tries() < 3 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		e.sink.Refuse(0, "")
		out := e.sink.Next(t, 10*time.Second)
		e.waitDelivery(c.ID, rep.Message.ID, sb.DeliverySent)
		m, err := email.Parse(out.Data)
		if err != nil {
			t.Fatal(err)
		}
		// Rule R-E3: "company" From name and an HTML signature.
		if m.From.Name != "Acme" || !strings.Contains(m.HTML, "<b>Ada</b> of Acme") || !strings.Contains(m.Text, "-- \n*Ada* of Acme") {
			t.Errorf("From %q, HTML %q, text %q", m.From.Name, m.HTML, m.Text)
		}

		// A bounce of the sent reply marks it failed.
		raw, _ := os.ReadFile("testdata/corpus/14-bounce-dsn.eml")
		bounce := strings.Replace(string(raw), "sb.01936b00-aaaa-7bbb-8ccc-dddddddddddd@acme.test", m.MessageID, 1)
		if err := smtp.SendMail(e.addr, nil, "", []string{"support@acme.test"}, []byte(bounce)); err != nil {
			t.Fatal(err)
		}
		b := e.waitDelivery(c.ID, rep.Message.ID, sb.DeliveryFailed)
		if !strings.Contains(b.DeliveryDetail, "5.1.1") || !strings.Contains(b.DeliveryDetail, "nobody@gone.example") {
			t.Errorf("bounce detail = %q", b.DeliveryDetail)
		}
		if n := len(e.conversations()); n != 1 {
			t.Errorf("the bounce made a conversation: %d, want 1", n)
		}
	})
}

// TestOwnerNotification is R-A8 for email: the contact's owner is away,
// the conversation is still theirs, and they get an email; R-A7 keeps
// the away owner out of specific routing.
func TestOwnerNotification(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		ada, ben := e.agent("Ada Lovelace"), e.agent("Ben Franklin")
		ct, err := e.svc.CreateContact(e.ctx, e.admin, app.ContactInput{Email: "vip@example.com", Name: "Vip", OwnerID: ada.UserID})
		if err != nil {
			t.Fatal(err)
		}
		_ = ct
		if _, err := e.svc.SetStatus(e.ctx, ada, ada.UserID, app.StatusInput{Status: sb.Away}); err != nil {
			t.Fatal(err)
		}
		rule := sb.RoutingRule{Enabled: true, Mode: sb.ModeContactOwner, Fallback: sb.Fallback{Mode: sb.FallbackSpecific, UserIDs: []string{ada.UserID, ben.UserID}}}
		e.emailChannel(`{"address":"support@acme.test"}`, rule)
		// Rule R-A8: the owner is away; the conversation is still theirs.
		e.mustSend("vip@example.com", []string{"support@acme.test"}, mail("Vip <vip@example.com>", "support@acme.test", "Urgent", "vip1@example.com", "", "Call me"))
		c := e.conversations()[0]
		if c.AssigneeID != ada.UserID {
			t.Fatalf("R-A8: assigned to %q, want the away owner", c.AssigneeID)
		}
		n := e.sink.Next(t, 10*time.Second)
		m, err := email.Parse(n.Data)
		if err != nil {
			t.Fatal(err)
		}
		if len(n.To) != 1 || n.To[0] != "ada@acme.test" || !strings.Contains(m.Subject, "Vip") || !strings.Contains(m.Text, c.ID) || m.AutoSubmitted != "auto-generated" {
			t.Errorf("R-A8 notification: to %v, subject %q, text %q", n.To, m.Subject, m.Text)
		}
		// Rule R-A7: a new contact falls back to specific users, only the
		// available ones (Ben).
		e.mustSend("new@example.com", []string{"support@acme.test"}, mail("new@example.com", "support@acme.test", "Hi", "new1@example.com", "", "Hello"))
		for _, c := range e.conversations() {
			if c.Subject == "Hi" && c.AssigneeID != ben.UserID {
				t.Errorf("R-A7: a new contact went to %q, want the available Ben", c.AssigneeID)
			}
		}
		e.sink.None(t, 200*time.Millisecond)
	})
}

// TestGenericMail: app.JobMail's handler sends OutMail from the email
// channel's address (or the relay's from address) through the relay.
func TestGenericMail(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		ch := e.emailChannel(`{"address":"support@acme.test"}`, sb.RoutingRule{})
		for _, om := range []app.OutMail{
			{ChannelID: ch.ID, To: []string{"someone@example.com"}, Subject: "Your transcript", Text: "the transcript", HTML: "<p>the transcript</p>"},
			{To: []string{"other@example.com"}, Subject: "No channel", Text: "plain"},
		} {
			err := e.svc.Update(e.ctx, e.admin.AccountID, func(tx sb.Tx) error { return e.svc.EnqueueMail(e.ctx, tx, e.admin.AccountID, om) })
			if err != nil {
				t.Fatal(err)
			}
			got := e.sink.Next(t, 10*time.Second)
			m, err := email.Parse(got.Data)
			if err != nil {
				t.Fatal(err)
			}
			wantFrom := "support@acme.test"
			if om.ChannelID == "" {
				wantFrom = "bounces@acme.test"
			}
			if m.From.Email != wantFrom || m.From.Name != "Acme" || m.Subject != om.Subject || got.To[0] != om.To[0] || !strings.Contains(m.Text, om.Text) {
				t.Errorf("mail %q: from %+v, subject %q, to %v, text %q", om.Subject, m.From, m.Subject, got.To, m.Text)
			}
		}
	})
}

// TestReplySurvivesRestart: a reply whose relay is down stays queued,
// and a new process on the same database sends it once the relay works.
func TestReplySurvivesRestart(t *testing.T) {
	forEachDB(t, testReplySurvivesRestart)
}

func testReplySurvivesRestart(t *testing.T, dsn string) {
	e := newEnv(t, dsn)
	ada := e.agent("Ada Lovelace")
	e.emailChannel(`{"address":"support@acme.test"}`, specific(ada))
	e.mustSend("alice@example.com", []string{"support@acme.test"}, mail("alice@example.com", "support@acme.test", "Hi", "h@example.com", "", "Hello"))
	c := e.conversations()[0]
	// The relay is down: a closed port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if _, err := e.svc.SetSMTPSettings(e.ctx, e.admin, app.SMTPSettingsInput{Host: "127.0.0.1", Port: port, TLS: sb.SMTPTLSNone}); err != nil {
		t.Fatal(err)
	}
	rep, err := e.svc.Reply(e.ctx, ada, c.ID, app.ReplyInput{Body: "Hello back"})
	if err != nil {
		t.Fatal(err)
	}
	var job *sb.Job
	deadline := time.Now().Add(10 * time.Second)
	for job == nil || job.Attempts == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the reply's job never ran")
		}
		time.Sleep(20 * time.Millisecond)
		_ = e.store.View(e.ctx, func(tx sb.Tx) error {
			jobs, err := tx.Jobs(e.ctx, e.admin.AccountID, email.JobReply, 10)
			if err == nil && len(jobs) > 0 && jobs[0].Status == sb.JobPending {
				job = jobs[0]
			}
			return err
		})
	}
	e.stop() // the process "dies" with the reply queued

	// The relay works again before the next process starts (so that the
	// retries' growing backoff does not decide the test's duration).
	sink := smtpsink.Start(t)
	st, err := sqlstore.Open(e.ctx, dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(e.ctx, e.admin.AccountID, func(tx sb.Tx) error {
		return tx.SetSMTPSettings(e.ctx, &sb.SMTPSettings{AccountID: e.admin.AccountID, Host: sink.Host, Port: sink.Port, TLS: sb.SMTPTLSNone})
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	e2 := reopen(t, dsn, e)
	m, err := email.Parse(sink.Next(t, 20*time.Second).Data)
	if err != nil {
		t.Fatal(err)
	}
	if m.MessageID != "sb."+rep.Message.ID+"@acme.test" {
		t.Errorf("after the restart, sent %q", m.MessageID)
	}
	e2.waitDelivery(c.ID, rep.Message.ID, sb.DeliverySent)
}

// TestReplyNeedsContactEmail: a reply to a contact without an email
// address is refused up front (422), nothing is stored or queued.
func TestReplyNeedsContactEmail(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir()+"/noemail.db")
	ada := e.agent("Ada Lovelace")
	ch := e.emailChannel(`{"address":"support@acme.test"}`, specific(ada))
	res, err := e.svc.Inbound(e.ctx, e.admin, ch.ID, app.InboundInput{Contact: app.InboundContact{Phone: "+31201234567"}, Body: "call me"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Reply(e.ctx, ada, res.Conversation.ID, app.ReplyInput{Body: "Hello"})
	if !sb.IsKind(err, sb.RuleViolation) {
		t.Fatalf("reply to a contact without email: %v, want a rule violation", err)
	}
	if n := len(e.messages(res.Conversation.ID)); n != 1 {
		t.Errorf("%d messages after a refused reply, want 1", n)
	}
}

// TestReplyToDeletedChannel: a queued reply whose channel is deleted
// before it is sent is marked failed, not left queued.
func TestReplyToDeletedChannel(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir()+"/deleted.db")
	ada := e.agent("Ada Lovelace")
	ch := e.emailChannel(`{"address":"support@acme.test"}`, specific(ada))
	e.mustSend("alice@example.com", []string{"support@acme.test"}, mail("alice@example.com", "support@acme.test", "Hi", "d1@example.com", "", "Hello"))
	c := e.conversations()[0]
	e.sink.Refuse(451, "4.3.0 later") // keep the reply queued
	rep, err := e.svc.Reply(e.ctx, ada, c.ID, app.ReplyInput{Body: "Hello back"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteChannel(e.ctx, e.admin, ch.ID); err != nil {
		t.Fatal(err)
	}
	// The relay keeps refusing (an attempt in flight while the channel is
	// deleted must not succeed); the next attempt finds no channel.
	m := e.waitDelivery(c.ID, rep.Message.ID, sb.DeliveryFailed)
	if !strings.Contains(m.DeliveryDetail, "not sent") {
		t.Errorf("delivery detail %q", m.DeliveryDetail)
	}
}
