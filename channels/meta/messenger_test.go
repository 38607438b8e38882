package meta_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/channels/internal/chantest"
	"github.com/switchboard-dev/switchboard/channels/internal/hook"
	"github.com/switchboard-dev/switchboard/channels/meta"
)

const (
	appSecret   = "test-app-secret-7f3a9c"
	verifyToken = "verify-me-please-42"
	pageID      = "104729415678901"
	psid        = "6543210987654321"
	pageToken   = "EAAtestpagetoken123"
)

func newMetaEnv(t *testing.T, dsn string) (*chantest.Env, *fakeGraph) {
	g := newFakeGraph(t)
	e := chantest.New(t, dsn, func(svc *app.Service, log *slog.Logger) func(*http.ServeMux) {
		return meta.New(meta.Config{App: svc, Logger: log, AppSecret: appSecret, VerifyToken: verifyToken, GraphURL: g.srv.URL}).Mount
	})
	return e, g
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post sends a webhook body with a signature header (none if sig is "").
func post(e *chantest.Env, path string, body []byte, sig string) *chantest.Response {
	e.T.Helper()
	if sig == "" {
		return e.Request("POST", path, "", body)
	}
	return e.Request("POST", path, "", body, "X-Hub-Signature-256", sig)
}

// signed posts body signed with the test app secret, expecting 200.
func signed(e *chantest.Env, path string, body []byte) {
	e.T.Helper()
	if r := post(e, path, body, hook.Sign(appSecret, body)); r.Status != http.StatusOK {
		e.T.Fatalf("POST %s: status %d: %s", path, r.Status, r.Body)
	}
}

// messengerText builds a one-message webhook from psid to the page.
func messengerText(page, from, mid, text, quickReply string) []byte {
	msg := map[string]any{"mid": mid, "text": text}
	if quickReply != "" {
		msg["quick_reply"] = map[string]string{"payload": quickReply}
	}
	b, _ := json.Marshal(map[string]any{"object": "page", "entry": []any{map[string]any{
		"id": page, "time": 1763799600000, "messaging": []any{map[string]any{
			"sender": map[string]string{"id": from}, "recipient": map[string]string{"id": page},
			"timestamp": 1763799600000, "message": msg,
		}},
	}}})
	return b
}

func convOf(e *chantest.Env, channelID, token string) *sb.Conversation {
	e.T.Helper()
	for _, c := range e.Conversations() {
		if c.ChannelID == channelID && e.Contact(c.ContactID).VisitorToken == token {
			return c
		}
	}
	return nil
}

func lastOut(e *chantest.Env, convID string) *sb.Message {
	var out *sb.Message
	for _, m := range e.Messages(convID) {
		if m.Direction == sb.DirectionOut {
			out = m
		}
	}
	return out
}

func TestMessengerHandshake(t *testing.T) {
	e, _ := newMetaEnv(t, "sqlite:"+t.TempDir()+"/t.db")
	for _, path := range []string{"/webhooks/messenger", "/webhooks/whatsapp"} {
		r := e.Request("GET", path+"?hub.mode=subscribe&hub.verify_token="+verifyToken+"&hub.challenge=1158201444", "", nil)
		if r.Status != 200 || string(r.Body) != "1158201444" {
			t.Errorf("%s handshake: %d %q, want 200 with the challenge", path, r.Status, r.Body)
		}
		for _, q := range []string{"hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1", "hub.mode=unsubscribe&hub.verify_token=" + verifyToken + "&hub.challenge=1", ""} {
			if r := e.Request("GET", path+"?"+q, "", nil); r.Status != http.StatusForbidden || strings.Contains(string(r.Body), "1158") {
				t.Errorf("%s?%s: %d %s, want 403", path, q, r.Status, r.Body)
			}
		}
	}
	if strings.Contains(e.Logs.String(), verifyToken) {
		t.Error("the verify token was logged")
	}
}

// Rule R-F1: unsigned or badly signed webhooks are refused and logged,
// and nothing is stored.
func TestMessengerSignatures(t *testing.T) {
	chantest.ForEachDB(t, func(t *testing.T, dsn string) {
		e, _ := newMetaEnv(t, dsn)
		e.Channel(sb.KindMessenger, `{"page_id":"`+pageID+`","page_access_token":"`+pageToken+`"}`)
		body := sample(t, "messenger_message.json")
		tampered := []byte(strings.Replace(string(body), "on its way", "ON ITS WAY", 1))
		cases := []struct {
			name   string
			body   []byte
			sig    string
			status int
			code   string
		}{
			{"R-F1 unsigned", body, "", 401, "signature_missing"},
			{"R-F1 signed with another secret", body, hook.Sign("not-the-secret", body), 403, "signature_invalid"},
			{"R-F1 not hex", body, "sha256=zzzz", 403, "signature_invalid"},
			{"R-F1 sha1 form", body, "sha1=" + strings.Repeat("ab", 20), 403, "signature_invalid"},
			{"R-F1 body changed after signing", tampered, hook.Sign(appSecret, body), 403, "signature_invalid"},
		}
		for _, tc := range cases {
			r := post(e, "/webhooks/messenger", tc.body, tc.sig)
			if code, _ := r.Error(); r.Status != tc.status || code != tc.code {
				t.Errorf("%s: %d %s, want %d %s", tc.name, r.Status, r.Body, tc.status, tc.code)
			}
		}
		if n := len(e.Conversations()); n != 0 {
			t.Fatalf("refused webhooks stored %d conversations", n)
		}
		logs := e.Logs.String()
		if !strings.Contains(logs, "unsigned webhook refused") || !strings.Contains(logs, "wrong signature refused") {
			t.Errorf("refusals not logged:\n%s", logs)
		}
		if strings.Contains(logs, appSecret) || strings.Contains(logs, pageToken) {
			t.Error("a secret was logged")
		}
		// A bad payload with a good signature: 400, nothing stored.
		bad := []byte(`{"object":"page","entry":"nope"}`)
		if r := post(e, "/webhooks/messenger", bad, hook.Sign(appSecret, bad)); r.Status != 400 {
			t.Errorf("bad payload: %d %s, want 400", r.Status, r.Body)
		}
		if n := len(e.Conversations()); n != 0 {
			t.Fatalf("bad payload stored %d conversations", n)
		}
	})
}

func TestMessengerInboundAndReplies(t *testing.T) {
	chantest.ForEachDB(t, func(t *testing.T, dsn string) {
		e, g := newMetaEnv(t, dsn)
		ada, ben := e.Agent("Ada"), e.Agent("Ben")
		ch := e.Channel(sb.KindMessenger, `{"page_id":"`+pageID+`","page_access_token":"`+pageToken+`",
			"greeting":"Hi! Ask us anything.","instant_reply":"Thanks! We usually answer within an hour."}`, ada, ben)
		token := "messenger:" + pageID + ":" + psid

		t.Run("R-F2 greeting is pushed to the page", func(t *testing.T) {
			e.Eventually("the greeting", func() bool { return len(g.sent("/me/messenger_profile")) > 0 })
			c := g.sent("/me/messenger_profile")[0]
			greeting, _ := c.Body["greeting"].([]any)
			if c.Auth != "Bearer "+pageToken || len(greeting) != 1 || greeting[0].(map[string]any)["text"] != "Hi! Ask us anything." {
				t.Errorf("profile call = %+v", c)
			}
		})

		var conv *sb.Conversation
		t.Run("a message becomes a routed conversation (R-A6 least busy)", func(t *testing.T) {
			body := sample(t, "messenger_message.json")
			signed(e, "/webhooks/messenger", body)
			conv = convOf(e, ch, token)
			if conv == nil {
				t.Fatal("no conversation for the Messenger user")
			}
			if conv.AssigneeID != ada && conv.AssigneeID != ben {
				t.Errorf("assignee %q, want Ada or Ben", conv.AssigneeID)
			}
			if s := e.Strategy(conv.ID); s != "least_busy" {
				t.Errorf("R-A6: Messenger strategy %q, want least_busy", s)
			}
			msgs := e.Messages(conv.ID)
			in := msgs[0]
			if in.Direction != sb.DirectionIn || in.Body != "Hello, is my order on its way?" || !strings.HasPrefix(in.ExternalID, "m_AG5Hz2") {
				t.Errorf("inbound message = %+v", in)
			}
			var meta struct {
				Messenger struct {
					PSID   string `json:"psid"`
					PageID string `json:"page_id"`
				}
			}
			if err := json.Unmarshal(in.Meta, &meta); err != nil || meta.Messenger.PSID != psid || meta.Messenger.PageID != pageID {
				t.Errorf("meta = %s (%v)", in.Meta, err)
			}
			contact := e.Contact(conv.ContactID)
			if contact.Name != "Mia Jensen" || contact.Email != "" {
				t.Errorf("contact = %+v; want the profile's name and no email", contact)
			}
			prof := g.sent("/" + psid)
			if len(prof) != 1 || prof[0].Query != "fields=first_name,last_name" || prof[0].Auth != "Bearer "+pageToken {
				t.Errorf("profile look-ups = %+v", prof)
			}
			// Replayed by Meta: de-duplicated by mid.
			signed(e, "/webhooks/messenger", body)
			if n := len(e.Messages(conv.ID)); n > 2 {
				t.Errorf("the replay added messages: %d", n)
			}
			if n := len(e.Conversations()); n != 1 {
				t.Errorf("conversations after the replay: %d, want 1", n)
			}
		})

		t.Run("R-F2 instant reply goes out automatically as a response", func(t *testing.T) {
			e.Eventually("the instant reply is sent", func() bool {
				m := lastOut(e, conv.ID)
				return m != nil && m.Delivery == sb.DeliverySent
			})
			m := lastOut(e, conv.ID)
			if m.Body != "Thanks! We usually answer within an hour." || m.AuthorUserID != "" || m.ExternalID != "m_REPLY_MID_FROM_GRAPH" {
				t.Errorf("instant reply = %+v", m)
			}
			c := g.sent("/me/messages")[0]
			if c.Auth != "Bearer "+pageToken || c.Body["messaging_type"] != "RESPONSE" || c.Body["tag"] != nil ||
				c.Body["recipient"].(map[string]any)["id"] != psid || c.Body["message"].(map[string]any)["text"] != m.Body {
				t.Errorf("Send API call = %+v", c)
			}
		})

		t.Run("delivery and read receipts", func(t *testing.T) {
			signed(e, "/webhooks/messenger", sample(t, "messenger_delivery.json"))
			if m := lastOut(e, conv.ID); m.DeliveryDetail != "delivered" {
				t.Errorf("after the delivery receipt: %q/%q", m.Delivery, m.DeliveryDetail)
			}
			signed(e, "/webhooks/messenger", sample(t, "messenger_read.json"))
			if m := lastOut(e, conv.ID); m.Delivery != sb.DeliverySent || m.DeliveryDetail != "read" {
				t.Errorf("after the read receipt: %q/%q", m.Delivery, m.DeliveryDetail)
			}
		})

		t.Run("postbacks and attachments join the person's conversation", func(t *testing.T) {
			signed(e, "/webhooks/messenger", sample(t, "messenger_postback.json"))
			signed(e, "/webhooks/messenger", sample(t, "messenger_attachment.json"))
			var bodies []string
			for _, m := range e.Messages(conv.ID) {
				if m.Direction == sb.DirectionIn {
					bodies = append(bodies, m.Body)
				}
			}
			want := []string{"Hello, is my order on its way?", "Talk to support", "[image] https://scontent.example.com/v/t1.15752-9/photo.jpg"}
			if strings.Join(bodies, "|") != strings.Join(want, "|") {
				t.Errorf("thread = %q, want %q", bodies, want)
			}
		})

		t.Run("R-A6 least busy: new people go to the less busy agent; echoes are not stored", func(t *testing.T) {
			signed(e, "/webhooks/messenger", sample(t, "messenger_batch.json"))
			first := convOf(e, ch, "messenger:"+pageID+":7000000000000001")
			second := convOf(e, ch, "messenger:"+pageID+":7000000000000002")
			if first == nil || second == nil {
				t.Fatal("the batch did not create two conversations")
			}
			if first.AssigneeID == conv.AssigneeID {
				t.Errorf("R-A6: the second person went to the busier agent %s", first.AssigneeID)
			}
			if e.Strategy(first.ID) != "least_busy" || e.Strategy(second.ID) != "least_busy" {
				t.Error("R-A6: Messenger conversations must be routed least busy")
			}
			for _, m := range e.Messages(first.ID) {
				if m.ExternalID == "m_echo_0001" {
					t.Error("an echo of the page's own message was stored")
				}
			}
			in := e.Messages(second.ID)[0]
			if !strings.Contains(string(in.Meta), `"payload":"YES_PLEASE"`) {
				t.Errorf("quick reply payload not kept: %s", in.Meta)
			}
		})

		t.Run("standby messages (another app has the thread) are recorded, never answered", func(t *testing.T) {
			signed(e, "/webhooks/messenger", sample(t, "messenger_standby.json"))
			sc := convOf(e, ch, "messenger:"+pageID+":7000000000000003")
			if sc == nil {
				t.Fatal("the standby message was not recorded")
			}
			msgs := e.Messages(sc.ID) // an instant reply would be stored before the webhook answers
			if len(msgs) != 1 || msgs[0].Body != "Talking to the shop bot" || !strings.Contains(string(msgs[0].Meta), `"standby":true`) {
				t.Errorf("standby thread = %+v", msgs)
			}
		})

		t.Run("R-F3 reply window: 24 h response, 7 days human agent, refused later", func(t *testing.T) {
			reply := func(body string) *chantest.Response {
				return e.Request("POST", "/api/v1/conversations/"+conv.ID+"/messages", e.Admin, map[string]any{"body": body})
			}
			// sentAs waits until the reply is sent and returns the Send API call that sent it.
			sentAs := func(body string) map[string]any {
				t.Helper()
				e.Eventually("the reply is sent", func() bool {
					m := lastOut(e, conv.ID)
					return m.Body == body && m.Delivery == sb.DeliverySent && m.ExternalID != ""
				})
				for _, c := range g.sent("/me/messages") {
					if c.Body["message"].(map[string]any)["text"] == body {
						return c.Body
					}
				}
				t.Fatalf("no Send API call carried %q", body)
				return nil
			}
			e.Clock.Advance(time.Hour)
			if r := reply("Your parcel left this morning."); r.Status != 201 {
				t.Fatalf("reply within 24 h: %d %s", r.Status, r.Body)
			}
			if c := sentAs("Your parcel left this morning."); c["messaging_type"] != "RESPONSE" || c["tag"] != nil {
				t.Errorf("within 24 h: %+v, want RESPONSE without tag", c)
			}

			e.Clock.Advance(30 * time.Hour)
			if r := reply("Sorry for the wait: it arrives tomorrow."); r.Status != 201 {
				t.Fatalf("human agent reply after 31 h: %d %s", r.Status, r.Body)
			}
			if c := sentAs("Sorry for the wait: it arrives tomorrow."); c["messaging_type"] != "MESSAGE_TAG" || c["tag"] != "HUMAN_AGENT" {
				t.Errorf("after 24 h: %+v, want MESSAGE_TAG with HUMAN_AGENT", c)
			}

			e.Clock.Advance(7 * 24 * time.Hour)
			r := reply("Still there?")
			if code, _ := r.Error(); r.Status != 422 || code != "outside_reply_window" || !strings.Contains(string(r.Body), "7 days") {
				t.Errorf("after 7 days: %d %s, want 422 outside_reply_window saying why", r.Status, r.Body)
			}
			if r := e.Request("POST", "/api/v1/conversations/"+conv.ID+"/messages", e.Admin, map[string]any{"body": "note to self", "internal": true}); r.Status != 201 {
				t.Errorf("an internal note is never sent, so never refused: %d %s", r.Status, r.Body)
			}
		})

		t.Run("R-F3 automated messages never go out after 24 h", func(t *testing.T) {
			late := "7000000000000999"
			g.set(func(g *fakeGraph) { g.fail, g.code, g.mid = 503, 2, "m_never" })
			signed(e, "/webhooks/messenger", messengerText(pageID, late, "m_late_1", "Anyone there?", ""))
			lc := convOf(e, ch, "messenger:"+pageID+":"+late)
			e.Eventually("a first (failing) attempt at the instant reply", func() bool {
				for _, c := range g.sent("/me/messages") {
					if c.Body["recipient"].(map[string]any)["id"] == late {
						return true
					}
				}
				return false
			})
			// The clock moves only once the failed attempt is recorded:
			// moved earlier, the retry would be scheduled 25 h on, past a
			// clock that no longer moves.
			e.Eventually("the failed attempt recorded, a retry scheduled", func() bool {
				m := lastOut(e, lc.ID)
				if m == nil {
					return false
				}
				var j *sb.Job
				_ = e.Store.View(context.Background(), func(tx sb.Tx) error {
					js, err := tx.Jobs(context.Background(), e.AccountID, meta.JobMessengerSend, 100)
					for _, x := range js {
						if x.Key == m.ID {
							j = x
						}
					}
					return err
				})
				return j != nil && j.Status == sb.JobPending && j.Attempts >= 1 && j.LastError != ""
			})
			e.Clock.Advance(25 * time.Hour) // the retry comes after the window
			g.set(func(g *fakeGraph) { g.fail = 0 })
			e.Eventually("the instant reply fails", func() bool { m := lastOut(e, lc.ID); return m != nil && m.Delivery == sb.DeliveryFailed })
			if m := lastOut(e, lc.ID); !strings.Contains(m.DeliveryDetail, "24 hours") {
				t.Errorf("failure detail %q does not say why", m.DeliveryDetail)
			}
			for _, c := range g.sent("/me/messages") {
				if c.Body["recipient"].(map[string]any)["id"] == late && c.Body["tag"] != nil {
					t.Errorf("an automated message was sent with a tag: %+v", c.Body)
				}
			}
		})

		t.Run("R-F1 a page belongs to one channel in the whole installation", func(t *testing.T) {
			r := e.Request("POST", "/api/v1/channels", e.Admin, map[string]any{"kind": "messenger", "name": "Again",
				"config": map[string]any{"page_id": pageID}, "new_inbox": map[string]any{"name": "again", "team_ids": []string{}}})
			if code, field := r.Error(); r.Status != 422 || code != "already_connected" || field != "config" {
				t.Errorf("same page again: %d %s", r.Status, r.Body)
			}
			// Another account.
			ctx := context.Background()
			other := &sb.Account{ID: "acct-other", Name: "Other", TimeZone: "UTC", CreatedAt: chantest.Start0}
			boss := &sb.User{ID: "boss-other", AccountID: other.ID, Email: "boss@other.test", Name: "Boss", Role: sb.RoleAdmin, PaidSeat: true, Status: sb.Available, CreatedAt: chantest.Start0}
			if err := e.Store.Update(ctx, "", func(tx sb.Tx) error {
				if err := tx.CreateAccount(ctx, other); err != nil {
					return err
				}
				return tx.CreateUser(ctx, boss)
			}); err != nil {
				t.Fatal(err)
			}
			_, err := e.App.CreateChannel(ctx, app.Actor{AccountID: other.ID, UserID: boss.ID, Role: sb.RoleAdmin}, "", app.ChannelInput{
				Kind: sb.KindMessenger, Name: "Stolen page", Config: json.RawMessage(`{"page_id":"` + pageID + `"}`), NewInbox: &app.InboxInput{Name: "Other inbox"}})
			if !sb.IsKind(err, sb.RuleViolation) || !strings.Contains(err.Error(), "R-F1") {
				t.Errorf("another account connecting the page: %v, want a rule violation naming R-F1", err)
			}
			// Secrets are write-only.
			r = e.Want(200, "GET", "/api/v1/channels/"+ch, e.Admin, nil, nil)
			if strings.Contains(string(r.Body), pageToken) || !strings.Contains(string(r.Body), `"page_access_token":"********"`) {
				t.Errorf("the page token is shown: %s", r.Body)
			}
			// A change that leaves the token out keeps it.
			e.Want(200, "PATCH", "/api/v1/channels/"+ch, e.Admin, map[string]any{"config": map[string]any{"page_id": pageID, "instant_reply": ""}}, nil)
			var stored *sb.Channel
			_ = e.Store.View(ctx, func(tx sb.Tx) error { stored, _ = tx.Channel(ctx, e.AccountID, ch); return nil })
			if !strings.Contains(string(stored.Config), pageToken) {
				t.Errorf("PATCH without the token lost it: %s", stored.Config)
			}
		})
	})
}

// Rule R-F2: explicit consent holds a person's messages until they accept;
// implicit consent shows the text.
func TestMessengerConsent(t *testing.T) {
	chantest.ForEachDB(t, func(t *testing.T, dsn string) {
		e, g := newMetaEnv(t, dsn)
		ada := e.Agent("Ada")
		ch := e.Channel(sb.KindMessenger, `{"page_id":"`+pageID+`","page_access_token":"`+pageToken+`","consent":"explicit",
			"consent_text":"We keep your messages to answer you. OK?","lookup_profile":false}`, ada)
		tok := func(p string) string { return "messenger:" + pageID + ":" + p }

		t.Run("R-F2 explicit: held until accepted", func(t *testing.T) {
			signed(e, "/webhooks/messenger", messengerText(pageID, "111", "m_c1", "My order is late", ""))
			signed(e, "/webhooks/messenger", messengerText(pageID, "111", "m_c2", "Number 4471", ""))
			if c := convOf(e, ch, tok("111")); c != nil {
				t.Fatal("a conversation started before consent")
			}
			e.Eventually("the consent prompt", func() bool { return len(g.sent("/me/messages")) > 0 })
			p := g.sent("/me/messages")[0].Body
			msg := p["message"].(map[string]any)
			qr, _ := msg["quick_replies"].([]any)
			if msg["text"] != "We keep your messages to answer you. OK?" || len(qr) != 2 ||
				qr[0].(map[string]any)["payload"] != meta.ConsentAccept || qr[1].(map[string]any)["payload"] != meta.ConsentDecline {
				t.Errorf("consent prompt = %+v", p)
			}
			signed(e, "/webhooks/messenger", messengerText(pageID, "111", "m_c3", "Accept", meta.ConsentAccept))
			c := convOf(e, ch, tok("111"))
			if c == nil {
				t.Fatal("no conversation after accepting")
			}
			var bodies []string
			for _, m := range e.Messages(c.ID) {
				bodies = append(bodies, m.Body)
			}
			if strings.Join(bodies, "|") != "My order is late|Number 4471" {
				t.Errorf("thread after accepting = %q, want the held messages in order", bodies)
			}
			signed(e, "/webhooks/messenger", messengerText(pageID, "111", "m_c4", "Thanks", ""))
			if n := len(e.Messages(c.ID)); n != 3 {
				t.Errorf("after consent, messages go straight in: %d messages, want 3", n)
			}
		})

		t.Run("R-F2 explicit: declining drops the held messages", func(t *testing.T) {
			signed(e, "/webhooks/messenger", messengerText(pageID, "222", "m_d1", "Hi", ""))
			signed(e, "/webhooks/messenger", messengerText(pageID, "222", "m_d2", "Decline", meta.ConsentDecline))
			if c := convOf(e, ch, tok("222")); c != nil {
				t.Error("a conversation started although the person declined")
			}
			ctx := context.Background()
			_ = e.Store.View(ctx, func(tx sb.Tx) error {
				c, err := tx.Consent(ctx, e.AccountID, ch, "222")
				if err != nil || c.Status != sb.ConsentDeclined || string(c.Held) != "[]" {
					t.Errorf("consent = %+v, %v; want declined with nothing held", c, err)
				}
				return nil
			})
		})

		t.Run("R-F2 implicit: the consent text is shown with the instant reply", func(t *testing.T) {
			ch2 := e.Channel(sb.KindMessenger, `{"page_id":"200000000000002","page_access_token":"`+pageToken+`","consent":"implicit",
				"consent_text":"By writing you accept our privacy policy.","instant_reply":"Hello!","lookup_profile":false}`, ada)
			signed(e, "/webhooks/messenger", messengerText("200000000000002", "333", "m_i1", "Hi there", ""))
			c := convOf(e, ch2, "messenger:200000000000002:333")
			if c == nil {
				t.Fatal("implicit consent: no conversation")
			}
			e.Eventually("the instant reply", func() bool { m := lastOut(e, c.ID); return m != nil })
			if m := lastOut(e, c.ID); m.Body != "By writing you accept our privacy policy.\n\nHello!" {
				t.Errorf("instant reply = %q", m.Body)
			}
		})
	})
}

// Rule R-F1: a page of another Meta app is verified with its channel's own
// app secret; its events are not accepted with a signature of another app.
// Such a page may also use the channel's own webhook URL and verify token.
func TestMessengerChannelAppSecret(t *testing.T) {
	e, _ := newMetaEnv(t, "sqlite:"+t.TempDir()+"/t.db")
	ch := e.Channel(sb.KindMessenger, `{"page_id":"300000000000003","app_secret":"other-app-secret-99","verify_token":"channel-verify-77","lookup_profile":false}`)
	body := messengerText("300000000000003", "444", "m_o1", "hello", "")
	if r := post(e, "/webhooks/messenger", body, hook.Sign("wrong", body)); r.Status != 403 {
		t.Fatalf("wrong secret: %d", r.Status)
	}
	if r := post(e, "/webhooks/messenger", body, hook.Sign("other-app-secret-99", body)); r.Status != 200 {
		t.Fatalf("the channel's own secret: %d %s", r.Status, r.Body)
	}
	if convOf(e, ch, "messenger:300000000000003:444") == nil {
		t.Fatal("the event signed with the channel's secret was not stored")
	}

	own := "/webhooks/messenger/" + ch
	if r := e.Request("GET", own+"?hub.mode=subscribe&hub.verify_token=channel-verify-77&hub.challenge=99", "", nil); r.Status != 200 || string(r.Body) != "99" {
		t.Errorf("the channel's handshake: %d %s", r.Status, r.Body)
	}
	if r := e.Request("GET", own+"?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=99", "", nil); r.Status != 403 {
		t.Errorf("the channel's handshake with a wrong token: %d", r.Status)
	}
	if r := e.Request("GET", "/webhooks/messenger?hub.mode=subscribe&hub.verify_token=channel-verify-77&hub.challenge=99", "", nil); r.Status != 403 {
		t.Errorf("a channel's token opened the installation's URL: %d", r.Status)
	}
	second := messengerText("300000000000003", "555", "m_o2", "via the channel URL", "")
	if r := post(e, own, second, hook.Sign("other-app-secret-99", second)); r.Status != 200 || convOf(e, ch, "messenger:300000000000003:555") == nil {
		t.Errorf("the channel's own URL: %d %s", r.Status, r.Body)
	}
	other := e.Channel(sb.KindMessenger, `{"page_id":"300000000000004","lookup_profile":false}`)
	foreign := messengerText("300000000000004", "666", "m_o3", "another page", "")
	if r := post(e, own, foreign, hook.Sign(appSecret, foreign)); r.Status != 200 || convOf(e, other, "messenger:300000000000004:666") != nil {
		t.Errorf("a channel's URL took another page's event: %d %s", r.Status, r.Body)
	}
	if r := e.Request("GET", "/webhooks/whatsapp/"+ch+"?hub.mode=subscribe&hub.verify_token=channel-verify-77&hub.challenge=1", "", nil); r.Status != 404 {
		t.Errorf("a Messenger channel on the WhatsApp URL: %d", r.Status)
	}
	logs := e.Logs.String()
	if strings.Contains(logs, "other-app-secret-99") || strings.Contains(logs, "channel-verify-77") {
		t.Error("a channel's secret was logged")
	}
}
