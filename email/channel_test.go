package email_test

import (
	"encoding/json"
	"fmt"
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

		// The conversation is closed; an out-of-office answer to our reply
		// (Auto-Submitted, RFC 3834) is stored in it and leaves it closed,
		// and the contact's own reply then reopens it (R-X4).
		if _, err := e.svc.SetOpen(e.ctx, e.admin, c.ID, false); err != nil {
			t.Fatal(err)
		}
		e.mustSend("alice@example.com", []string{"support@acme.test"}, mail("alice@example.com", "support@acme.test", "Out of office: Re: Kettle missing", "ooo@example.com",
			"Auto-Submitted: auto-replied\nIn-Reply-To: <sb."+rep2.Message.ID+"@acme.test>\n", "I am away until Monday."))
		if got, err := e.svc.GetConversation(e.ctx, e.admin, c.ID); err != nil || got.Status != sb.StatusClosed || len(e.messages(c.ID)) != 6 {
			t.Fatalf("after an out-of-office: %+v (%v), %d messages; want closed, with 6 messages", got, err, len(e.messages(c.ID)))
		}
		e.mustSend("alice@example.com", []string{"support@acme.test"}, mail("alice@example.com", "support@acme.test", "Re: Kettle missing", "back@example.com",
			"In-Reply-To: <sb."+rep2.Message.ID+"@acme.test>\n", "I am back, it did not arrive."))
		if got, err := e.svc.GetConversation(e.ctx, e.admin, c.ID); err != nil || got.Status != sb.StatusOpen || len(e.messages(c.ID)) != 7 {
			t.Fatalf("after the contact's reply: %+v (%v), %d messages; want open, with 7 messages", got, err, len(e.messages(c.ID)))
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
