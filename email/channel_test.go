package email_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/email"
)

func specific(users ...app.Actor) sb.RoutingRule {
	r := sb.RoutingRule{Enabled: true, Mode: sb.ModeSpecific}
	for _, u := range users {
		r.UserIDs = append(r.UserIDs, u.UserID)
	}
	return r
}

// TestRoundTrip is the "done": mail to the channel address becomes
// a routed conversation; the agent's reply reaches the relay threaded and
// signed; the contact's reply joins the same conversation; a stranger's
// "Re:" with the same subject does not.
func TestRoundTrip(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		ada, ben := e.agent("Ada Lovelace"), e.agent("Ben Franklin")
		ch := e.emailChannel(`{"address":"support@acme.test","aliases":["help@acme.test"],"signature":"Kind regards,\n{{full_name}} ({{first_name}} / {{last_name}})"}`, specific(ada, ben))

		// Rule R-E1, R-E4: mail to an alias, from a new sender.
		e.mustSend("alice@example.com", []string{"HELP@acme.test"}, mail(`"Alice Example" <alice@example.com>`, "help@acme.test", "Kettle missing", "first@example.com", "", "Where is my kettle?"))
		convs := e.conversations()
		if len(convs) != 1 {
			t.Fatalf("%d conversations after one email, want 1", len(convs))
		}
		c := convs[0]
		if c.ChannelID != ch.ID || c.Subject != "Kettle missing" || (c.AssigneeID != ada.UserID && c.AssigneeID != ben.UserID) {
			t.Fatalf("conversation = %+v; want on the channel, subject kept, assigned to Ada or Ben (R-A6)", c)
		}
		contacts, err := e.svc.ListContacts(e.ctx, e.admin, "", 10)
		if err != nil || len(contacts.Items) != 1 || contacts.Items[0].Email != "alice@example.com" || contacts.Items[0].Name != "Alice Example" {
			t.Fatalf("R-E4: contacts = %+v, %v", contacts, err)
		}
		in := e.messages(c.ID)[0]
		var meta email.Meta
		if err := json.Unmarshal(in.Meta, &meta); err != nil || meta.MessageID != "first@example.com" || meta.Recipient != "help@acme.test" {
			t.Errorf("inbound meta = %s (%v)", in.Meta, err)
		}

		// Rule R-E3: the reply goes out through the relay, threaded, with the
		// signature's tokens replaced and the From name of agent and company.
		agent := ada
		if c.AssigneeID == ben.UserID {
			agent = ben
		}
		rep, err := e.svc.Reply(e.ctx, agent, c.ID, app.ReplyInput{Body: "It ships today."})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Message.Delivery != sb.DeliveryQueued {
			t.Errorf("reply delivery = %q, want queued", rep.Message.Delivery)
		}
		out := e.sink.Next(t, 10*time.Second)
		m, err := email.Parse(out.Data)
		if err != nil {
			t.Fatal(err)
		}
		name := map[string]string{ada.UserID: "Ada Lovelace", ben.UserID: "Ben Franklin"}[agent.UserID]
		first, last, _ := strings.Cut(name, " ")
		wantID := "sb." + rep.Message.ID + "@acme.test"
		switch {
		case m.From.Email != "support@acme.test" || m.From.Name != name+" at Acme":
			t.Errorf("From = %+v, want %q <support@acme.test>", m.From, name+" at Acme")
		case len(m.To) != 1 || m.To[0].Email != "alice@example.com":
			t.Errorf("To = %+v", m.To)
		case m.Subject != "Re: Kettle missing":
			t.Errorf("Subject = %q", m.Subject)
		case m.MessageID != wantID:
			t.Errorf("Message-ID = %q, want %q", m.MessageID, wantID)
		case len(m.InReplyTo) != 1 || m.InReplyTo[0] != "first@example.com" || len(m.References) != 1 || m.References[0] != "first@example.com":
			t.Errorf("In-Reply-To %v, References %v; want first@example.com", m.InReplyTo, m.References)
		case !strings.Contains(m.Text, "It ships today.\n\n-- \nKind regards,\n"+name+" ("+first+" / "+last+")"):
			t.Errorf("body lacks the signature with the agent's names:\n%s", m.Text)
		case out.From != "bounces@acme.test" || len(out.To) != 1 || out.To[0] != "alice@example.com":
			t.Errorf("envelope from %q to %v", out.From, out.To)
		}
		sent := e.waitDelivery(c.ID, rep.Message.ID, sb.DeliverySent)
		if sent.ExternalID != wantID {
			t.Errorf("sent message external id = %q, want %q", sent.ExternalID, wantID)
		}

		// Rule R-E1: the contact's reply (In-Reply-To our Message-ID) joins.
		e.mustSend("alice@example.com", []string{"support@acme.test"}, mail("alice@example.com", "support@acme.test", "Re: Kettle missing", "second@example.com",
			"In-Reply-To: <"+wantID+">\nReferences: <first@example.com> <"+wantID+">\n", "Thanks!"))
		// A reply that references only the contact's first message joins too.
		e.mustSend("alice@example.com", []string{"support@acme.test"}, mail("alice@example.com", "support@acme.test", "Also", "third@example.com",
			"References: <first@example.com>\n", "One more thing."))
		if convs := e.conversations(); len(convs) != 1 || len(e.messages(c.ID)) != 4 {
			t.Fatalf("after two replies: %d conversations, %d messages; want 1 and 4", len(convs), len(e.messages(c.ID)))
		}

		// A stranger's "Re:" with the same subject is a new conversation,
		// and so is a new mail (no references) from the same contact.
		e.mustSend("mallory@example.net", []string{"support@acme.test"}, mail("mallory@example.net", "support@acme.test", "Re: Kettle missing", "stranger@example.net", "", "Me too"))
		e.mustSend("alice@example.com", []string{"support@acme.test"}, mail("alice@example.com", "support@acme.test", "Re: Kettle missing", "fresh@example.com", "", "A new question"))
		if convs := e.conversations(); len(convs) != 3 {
			t.Errorf("a subject alone joined a thread: %d conversations, want 3", len(convs))
		}

		// The same Message-ID delivered twice is stored once.
		e.mustSend("alice@example.com", []string{"support@acme.test"}, mail("alice@example.com", "support@acme.test", "Re: Kettle missing", "second@example.com",
			"In-Reply-To: <"+wantID+">\n", "Thanks!"))
		if n := len(e.messages(c.ID)); n != 4 {
			t.Errorf("a repeated Message-ID was stored again: %d messages, want 4", n)
		}

		// A second reply references the whole thread.
		rep2, err := e.svc.Reply(e.ctx, agent, c.ID, app.ReplyInput{Body: "Anything else?"})
		if err != nil {
			t.Fatal(err)
		}
		m2, err := email.Parse(e.sink.Next(t, 10*time.Second).Data)
		if err != nil {
			t.Fatal(err)
		}
		wantRefs := []string{"first@example.com", wantID, "second@example.com", "third@example.com"}
		if strings.Join(m2.References, " ") != strings.Join(wantRefs, " ") || len(m2.InReplyTo) != 1 || m2.InReplyTo[0] != "third@example.com" {
			t.Errorf("second reply: In-Reply-To %v, References %v; want third@… and %v", m2.InReplyTo, m2.References, wantRefs)
		}
		e.waitDelivery(c.ID, rep2.Message.ID, sb.DeliverySent)
	})
}

// TestRefusals: unknown recipients at RCPT (550), too large (552), no
// header at all (554); nothing is stored.
func TestRefusals(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{server: func(c *email.ServerConfig) { c.MaxMessageBytes = 4096 }})
		e.emailChannel(`{"address":"support@acme.test"}`, sb.RoutingRule{})
		if err := e.send("a@example.com", []string{"nobody@acme.test"}, mail("a@example.com", "nobody@acme.test", "x", "u1@x", "", "hi")); smtpCode(err) != 550 {
			t.Errorf("unknown recipient: %v, want 550", err)
		}
		big := mail("a@example.com", "support@acme.test", "big", "big@x", "", strings.Repeat("0123456789abcdef\n", 400))
		if err := e.send("a@example.com", []string{"support@acme.test"}, big); smtpCode(err) != 552 {
			t.Errorf("too large: %v, want 552", err)
		}
		if err := e.send("a@example.com", []string{"support@acme.test"}, "no header here at all\n\njust text"); smtpCode(err) != 554 {
			t.Errorf("unparseable: %v, want 554", err)
		}
		// The channel's own address as sender would loop.
		if err := e.send("support@acme.test", []string{"support@acme.test"}, mail("support@acme.test", "support@acme.test", "loop", "loop@x", "", "hi")); smtpCode(err) != 554 {
			t.Errorf("loop: %v, want 554", err)
		}
		if n := len(e.conversations()); n != 0 {
			t.Errorf("%d conversations stored from refused mail", n)
		}
		// A +tag reaches the address without it.
		e.mustSend("a@example.com", []string{"support+billing@acme.test"}, mail("a@example.com", "support+billing@acme.test", "tagged", "tag@x", "", "hi"))
		if n := len(e.conversations()); n != 1 {
			t.Errorf("plus-addressed mail: %d conversations, want 1", n)
		}
	})
}

// TestForwardedMail is R-E5 on the corpus' real forwards: logged to the
// original sender by default, to the forwarder with the channel's switch.
func TestForwardedMail(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.agent("Ben Agent") // ben@acme.test forwards mail in
		ch := e.emailChannel(`{"address":"support@acme.test"}`, sb.RoutingRule{})
		raw, err := os.ReadFile("testdata/corpus/11-outlook-forward.eml")
		if err != nil {
			t.Fatal(err)
		}
		if err := smtp.SendMail(e.addr, nil, "ben@acme.test", []string{"support@acme.test"}, raw); err != nil {
			t.Fatal(err)
		}
		contactOf := func() (*sb.Contact, *sb.Conversation) {
			t.Helper()
			c := e.conversations()[0]
			var ct *sb.Contact
			err := e.store.View(e.ctx, func(tx sb.Tx) error {
				var err error
				ct, err = tx.Contact(e.ctx, c.AccountID, c.ContactID)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return ct, c
		}
		// Rule R-E5: by default, the original sender.
		ct, c := contactOf()
		if ct.Email != "grace@navy.example" || ct.Name != "Grace Hopper" || c.Subject != "Delivery address change" {
			t.Errorf("R-E5 default: contact %s <%s>, subject %q; want Grace Hopper <grace@navy.example>, the original subject", ct.Name, ct.Email, c.Subject)
		}
		var meta email.Meta
		_ = json.Unmarshal(e.messages(c.ID)[0].Meta, &meta)
		if meta.ForwardedBy != "ben@acme.test" {
			t.Errorf("meta.forwarded_by = %q", meta.ForwardedBy)
		}
		// Rule R-E5: with the switch, the forwarder.
		if _, err := e.svc.UpdateChannel(e.ctx, e.admin, ch.ID, app.ChannelPatch{Config: json.RawMessage(`{"address":"support@acme.test","log_forwarded_to_forwarder":true}`)}); err != nil {
			t.Fatal(err)
		}
		raw, _ = os.ReadFile("testdata/corpus/10-gmail-forward.eml")
		raw = []byte(strings.Replace(string(raw), "ada@acme.test>", "ben@acme.test>", 1)) // Ben forwards this one
		raw = []byte(strings.Replace(string(raw), "From: Ada Lovelace <ben@acme.test>", "From: Ben Agent <ben@acme.test>", 1))
		if err := smtp.SendMail(e.addr, nil, "ben@acme.test", []string{"support@acme.test"}, raw); err != nil {
			t.Fatal(err)
		}
		if ct, _ := contactOf(); ct.Email != "ben@acme.test" {
			t.Errorf("R-E5 switched: contact %s, want the forwarder ben@acme.test", ct.Email)
		}
		// A forward from someone outside the team is logged to them.
		raw, _ = os.ReadFile("testdata/corpus/12-apple-forward.eml")
		raw = []byte(strings.Replace(string(raw), "cleo@acme.test", "cleo@elsewhere.example", 1))
		if err := smtp.SendMail(e.addr, nil, "cleo@elsewhere.example", []string{"support@acme.test"}, raw); err != nil {
			t.Fatal(err)
		}
		if ct, _ := contactOf(); ct.Email != "cleo@elsewhere.example" {
			t.Errorf("a stranger's forward: contact %s, want the stranger", ct.Email)
		}
	})
}

// TestAttachmentsStored: attachments are on disk by SHA-256 and described
// in the message's meta; HTML is kept sanitized.
func TestAttachmentsStored(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.emailChannel(`{"address":"support@acme.test"}`, sb.RoutingRule{})
		for _, f := range []string{"05-attachment-pdf", "04-inline-image", "02-multipart-alternative"} {
			raw, err := os.ReadFile("testdata/corpus/" + f + ".eml")
			if err != nil {
				t.Fatal(err)
			}
			if err := smtp.SendMail(e.addr, nil, "x@example.com", []string{"support@acme.test"}, raw); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
		}
		files := email.NewFiles(e.files)
		found := 0
		for _, c := range e.conversations() {
			var meta email.Meta
			if err := json.Unmarshal(e.messages(c.ID)[0].Meta, &meta); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(meta.HTML, "<script") {
				t.Errorf("stored HTML is not sanitized: %s", meta.HTML)
			}
			for _, a := range meta.Attachments {
				f, err := files.Open(a.SHA256)
				if err != nil {
					t.Errorf("attachment %s not stored: %v", a.Filename, err)
					continue
				}
				st, _ := f.Stat()
				f.Close()
				if st.Size() != int64(a.Size) {
					t.Errorf("%s: %d bytes on disk, meta says %d", a.Filename, st.Size(), a.Size)
				}
				found++
			}
		}
		if found != 2 {
			t.Errorf("%d attachments stored, want 2 (a PDF and an inline image)", found)
		}
	})
}

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

// TestConnectionLimits: one address gets at most MaxConnsPerIP
// connections; more are answered 421.
func TestConnectionLimits(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir()+"/limits.db", envOpts{server: func(c *email.ServerConfig) { c.MaxConnsPerIP = 2 }})
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	greet := func() string {
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 256)
		n, _ := c.Read(buf)
		return string(buf[:n])
	}
	for i := range 2 {
		if g := greet(); !strings.HasPrefix(g, "220 ") {
			t.Fatalf("connection %d greeted %q, want 220", i+1, g)
		}
	}
	if g := greet(); !strings.HasPrefix(g, "421 4.7.0") {
		t.Errorf("third connection greeted %q, want 421 4.7.0", g)
	}
	conns[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		g := greet()
		if strings.HasPrefix(g, "220 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after closing one, a new connection still gets %q", g)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAuthRequired: with AUTH configured, MAIL needs it (530), and the
// right credentials deliver.
func TestAuthRequired(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir()+"/auth.db", envOpts{server: func(c *email.ServerConfig) { c.AuthUser, c.AuthPassword = "relay", "pw" }})
	e.emailChannel(`{"address":"support@acme.test"}`, sb.RoutingRule{})
	msg := []byte(strings.ReplaceAll(mail("a@example.com", "support@acme.test", "x", "a1@x", "", "hi"), "\n", "\r\n"))
	if err := smtp.SendMail(e.addr, nil, "a@example.com", []string{"support@acme.test"}, msg); smtpCode(err) != 530 {
		t.Errorf("without AUTH: %v, want 530", err)
	}
	if err := smtp.SendMail(e.addr, smtp.PlainAuth("", "relay", "wrong", "127.0.0.1"), "a@example.com", []string{"support@acme.test"}, msg); smtpCode(err) != 535 {
		t.Errorf("wrong password: %v, want 535", err)
	}
	if err := smtp.SendMail(e.addr, smtp.PlainAuth("", "relay", "pw", "127.0.0.1"), "a@example.com", []string{"support@acme.test"}, msg); err != nil {
		t.Errorf("with AUTH: %v", err)
	}
	if n := len(e.conversations()); n != 1 {
		t.Errorf("%d conversations, want 1", n)
	}
}

// TestRandomRouting is R-A6 for email: one of the candidates uniformly at
// random, not the least busy (both agents get a share of 40 mails).
func TestRandomRouting(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		ada, ben := e.agent("Ada Lovelace"), e.agent("Ben Franklin")
		e.emailChannel(`{"address":"support@acme.test"}`, specific(ada, ben))
		for i := range 40 {
			from := fmt.Sprintf("c%d@example.com", i)
			e.mustSend(from, []string{"support@acme.test"}, mail(from, "support@acme.test", "Hi", fmt.Sprintf("r%d@example.com", i), "", "Hello"))
		}
		n := map[string]int{}
		for _, c := range e.conversations() {
			n[c.AssigneeID]++
		}
		// Rule R-A6: random between the two; with 40 draws each gets at
		// least 8 unless the picks are far from uniform (p < 0.01%).
		if n[ada.UserID]+n[ben.UserID] != 40 || n[ada.UserID] < 8 || n[ben.UserID] < 8 {
			t.Errorf("R-A6: Ada got %d, Ben %d of 40 (others: %v)", n[ada.UserID], n[ben.UserID], n)
		}
	})
}

// TestGracefulShutdown: Shutdown answers an idle connection 421 at once,
// lets a transaction in flight finish with 250, then refuses connections.
func TestGracefulShutdown(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir()+"/shutdown.db")
	e.emailChannel(`{"address":"support@acme.test"}`, sb.RoutingRule{})
	srv, addr := e.extraServer(t)
	idle, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if err := idle.Hello("idle.test"); err != nil {
		t.Fatal(err)
	}
	busy, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if err := busy.Mail("a@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := busy.Rcpt("support@acme.test"); err != nil {
		t.Fatal(err)
	}
	w, err := busy.Data()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	// Shutdown has begun once the listener refuses connections.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts after Shutdown began")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The idle connection is told to go.
	if err := idle.Noop(); err == nil || smtpCode(err) != 421 && !strings.Contains(err.Error(), "EOF") {
		t.Errorf("idle connection after shutdown: %v, want 421 or closed", err)
	}
	// The transaction in flight completes.
	if _, err := w.Write([]byte(strings.ReplaceAll(mail("a@example.com", "support@acme.test", "late", "late@x", "", "in flight"), "\n", "\r\n"))); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("the message in flight during shutdown: %v, want 250", err)
	}
	busy.Quit()
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if n := len(e.conversations()); n != 1 {
		t.Errorf("%d conversations, want the one in flight", n)
	}
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
	dsn := "sqlite:" + t.TempDir() + "/restart.db"
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

	e2 := reopen(t, dsn, e)
	if _, err := e2.svc.SetSMTPSettings(e2.ctx, e2.admin, app.SMTPSettingsInput{Host: e2.sink.Host, Port: e2.sink.Port, TLS: sb.SMTPTLSNone}); err != nil {
		t.Fatal(err)
	}
	m, err := email.Parse(e2.sink.Next(t, 10*time.Second).Data)
	if err != nil {
		t.Fatal(err)
	}
	if m.MessageID != "sb."+rep.Message.ID+"@acme.test" {
		t.Errorf("after the restart, sent %q", m.MessageID)
	}
	e2.waitDelivery(c.ID, rep.Message.ID, sb.DeliverySent)
}
