package widget_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/widget"
)

// TestVisitorOverHTTP: the HTTP fallback. A visitor's token makes a contact
// (R-C2); messages continue the visitor's open conversation; the state
// returns it with the messages after a cursor; a re-sent client id is
// stored once.
func TestVisitorOverHTTP(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		ann := e.agent(t, "Ann")
		ch := e.chat(t, open(map[string]any{"welcome_message": "Hi there", "color": "#ff6600", "position": "left"}), leastBusy(ann))
		tok := newToken()

		first := e.post(t, ch.ID, widget.PostMessage{VisitorToken: tok, Body: "Hello?", ClientID: "c1", Name: "Vera"})
		if first.Conversation == nil || first.Conversation.AssigneeName != "Ann" || first.Duplicate {
			t.Fatalf("first message: %+v", first)
		}
		again := e.post(t, ch.ID, widget.PostMessage{VisitorToken: tok, Body: "Hello?", ClientID: "c1"})
		if !again.Duplicate || again.Message.ID != first.Message.ID {
			t.Fatalf("re-sent client id: %+v, want the first message as a duplicate", again)
		}
		second := e.post(t, ch.ID, widget.PostMessage{VisitorToken: tok, Body: "Anyone?", ClientID: "c2"})
		if second.Conversation.ID != first.Conversation.ID {
			t.Fatalf("the second message started conversation %s, want %s", second.Conversation.ID, first.Conversation.ID)
		}
		if n := len(e.messages(t, first.Conversation.ID)); n != 2 {
			t.Fatalf("the thread has %d messages, want 2 (the re-sent one stored once)", n)
		}
		// R-C2: the token is the contact's.
		c := e.conversation(t, first.Conversation.ID)
		contact, err := e.svc.GetContact(context.Background(), e.admin, c.ContactID)
		if err != nil || contact.VisitorToken != tok || contact.Name != "Vera" {
			t.Fatalf("contact = %+v, %v; want the visitor token and name", contact, err)
		}
		if _, err := e.svc.Reply(context.Background(), ann, c.ID, app.ReplyInput{Body: "Hi Vera, Ann here."}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Reply(context.Background(), ann, c.ID, app.ReplyInput{Body: "internal: VIP", Internal: true}); err != nil {
			t.Fatal(err)
		}
		st := e.state(t, ch.ID, tok, "")
		if st.Channel.Color != "#ff6600" || st.Channel.Position != "left" || st.Channel.WelcomeMessage != "Hi there" || st.Channel.Heading != "Acme" {
			t.Errorf("channel info = %+v", st.Channel)
		}
		if st.Conversation == nil || len(st.Messages) != 3 {
			t.Fatalf("state: conversation %+v, %d messages, want 3 (no internal note)", st.Conversation, len(st.Messages))
		}
		if m := st.Messages[2]; m.Direction != "out" || m.AuthorName != "Ann" || m.Body != "Hi Vera, Ann here." {
			t.Errorf("reply = %+v", m)
		}
		if st.Messages[0].ClientID != "c1" {
			t.Errorf("the visitor's message lost its client id: %+v", st.Messages[0])
		}
		later := e.state(t, ch.ID, tok, st.Messages[1].ID)
		if len(later.Messages) != 1 || later.Messages[0].ID != st.Messages[2].ID || later.Cursor != st.Messages[2].ID {
			t.Errorf("after the cursor: %+v", later.Messages)
		}
		// Another visitor sees nothing of it.
		other := e.state(t, ch.ID, newToken(), "")
		if other.Conversation != nil || len(other.Messages) != 0 {
			t.Errorf("a new visitor sees %+v", other)
		}
	})
}

// TestOrigins: a channel lists the sites that may embed it; others get 403
// on the WebSocket and on POST; allowed ones get CORS answers.
func TestOrigins(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		ch := e.chat(t, open(nil), sb.RoutingRule{})
		body := widget.PostMessage{VisitorToken: newToken(), Body: "hi"}
		status, _, b := e.call(t, "POST", "/widget/v1/"+ch.ID+"/messages", "https://evil.example", body)
		if status != http.StatusForbidden || !strings.Contains(string(b), "origin_not_allowed") {
			t.Errorf("POST from another site: %d %s, want 403 origin_not_allowed", status, b)
		}
		req, _ := http.NewRequest("GET", e.srv.URL+"/widget/v1/"+ch.ID+"/ws?visitor_token="+newToken(), nil)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("WebSocket from another site: %d, want 403", resp.StatusCode)
		}
		status, h, _ := e.call(t, "OPTIONS", "/widget/v1/"+ch.ID+"/messages", shop, nil)
		if status != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != shop || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("preflight from the shop: %d %v", status, h)
		}
		status, h, _ = e.call(t, "POST", "/widget/v1/"+ch.ID+"/messages", shop, body)
		if status != 200 || h.Get("Access-Control-Allow-Origin") != shop {
			t.Errorf("POST from the shop: %d, CORS %q", status, h.Get("Access-Control-Allow-Origin"))
		}
		if status, _, _ := e.call(t, "OPTIONS", "/widget/v1/"+ch.ID+"/messages", "https://evil.example", nil); status != http.StatusForbidden {
			t.Errorf("preflight from another site: %d, want 403", status)
		}
		if status, _, b := e.call(t, "GET", "/widget/v1/"+ch.ID+"/preview", "", nil); status != 200 || !strings.Contains(string(b), `data-channel="`+ch.ID+`"`) {
			t.Errorf("preview page: %d %s", status, b)
		}
		if status, h, b := e.call(t, "GET", "/widget.js", "", nil); status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/javascript") || !strings.Contains(string(b), "#sbw-root") {
			t.Errorf("R-C1 /widget.js: %d %s, with its stylesheet inlined: %v", status, h.Get("Content-Type"), strings.Contains(string(b), "#sbw-root"))
		}
		if status, _, _ := e.call(t, "GET", "/widget/v1/nope/state", shop, nil); status != http.StatusNotFound {
			t.Errorf("unknown channel: %d, want 404", status)
		}
	})
}

// TestConfigValidation: chat configs and chatflows are checked at create
// and update with errors naming the field; the hand-over step may only
// name seated users (R-A2) with access to the inbox (R-A3).
func TestConfigValidation(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		ctx := context.Background()
		ann := e.agent(t, "Ann")
		noSeat := e.agent(t, "Nils", func(in *app.UserInput) { in.PaidSeat = false })
		vip, err := e.svc.CreateTeam(ctx, e.admin, app.TeamInput{Name: "VIP", MainMemberIDs: []string{ann.UserID, e.admin.UserID}})
		if err != nil {
			t.Fatal(err)
		}
		bob := e.agent(t, "Bob")
		cases := []struct {
			name   string
			config string
			field  string
		}{
			{"colour", `{"color":"red"}`, "config.color"},
			{"position", `{"position":"top"}`, "config.position"},
			{"heading", `{"heading":{"mode":"user"}}`, "config.heading.user_id"},
			{"origin", `{"allowed_origins":["shop.example/path"]}`, "config.allowed_origins[0]"},
			{"hours needed", `{"availability":{"mode":"hours"}}`, "config.availability.hours"},
			{"hours range", `{"availability":{"mode":"hours","hours":[{"day":7,"start":0,"end":60}]}}`, "config.availability.hours[0]"},
			{"outside hours", `{"availability":{"outside_hours":"sleep"}}`, "config.availability.outside_hours"},
			{"wrong type", `{"pop_open":"yes"}`, "config.pop_open"},
			{"chatflow kind", `{"chatflow":{"kind":"robot"}}`, "config.chatflow.kind"},
			{"question field", `{"chatflow":{"kind":"bot","steps":[{"type":"question","text":"Age?","field":"age"},{"type":"send_to_team_member","user_ids":["` + ann.UserID + `"]}]}}`, "config.chatflow.steps[0].field"},
			{"R-A4 bot without hand-over", `{"chatflow":{"kind":"bot","steps":[{"type":"message","text":"Hi"}]}}`, "config.chatflow.steps"},
			{"R-A2 hand-over to a user without seat", `{"chatflow":{"kind":"bot","steps":[{"type":"send_to_team_member","user_ids":["` + noSeat.UserID + `"]}]}}`, "config.chatflow.steps[0].user_ids"},
			{"R-A3 hand-over to a user without inbox access", `{"chatflow":{"kind":"bot","steps":[{"type":"send_to_team_member","user_ids":["` + bob.UserID + `"]}]}}`, "config.chatflow.steps[0].user_ids"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.svc.CreateChannel(ctx, e.admin, "", app.ChannelInput{Kind: sb.KindChat, Name: "Chat", Config: json.RawMessage(tc.config),
					NewInbox: &app.InboxInput{Name: "VIP inbox", TeamIDs: []string{vip.ID}}})
				var se *sb.Error
				if err == nil || !asError(err, &se) || se.Field != tc.field {
					t.Fatalf("config %s: err %v, want an error on field %s", tc.config, err, tc.field)
				}
			})
		}
		ch := e.chat(t, open(nil), sb.RoutingRule{}, vip.ID)
		bad := json.RawMessage(`{"color":"#12345"}`)
		if _, err := e.svc.UpdateChannel(ctx, e.admin, ch.ID, app.ChannelPatch{Config: bad}); err == nil || sb.KindOf(err) != sb.Invalid {
			t.Errorf("update with a bad colour: %v, want Invalid", err)
		}
		// The chatflow through its own use case.
		flow := app.Chatflow{Kind: app.ChatflowBot, Steps: []app.ChatflowStep{{Type: app.StepSendToMember, UserIDs: []string{bob.UserID}}}}
		if _, err := e.svc.SetChatflow(ctx, e.admin, ch.ID, flow); sb.KindOf(err) != sb.RuleViolation {
			t.Errorf("R-A3 SetChatflow naming a user without inbox access: %v, want a rule violation", err)
		}
		flow.Steps[0].UserIDs = []string{ann.UserID}
		if _, err := e.svc.SetChatflow(ctx, ann, ch.ID, flow); sb.KindOf(err) != sb.Forbidden {
			t.Errorf("an agent setting the chatflow: %v, want Forbidden", err)
		}
		if _, err := e.svc.SetChatflow(ctx, e.admin, ch.ID, flow); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.GetChatflow(ctx, e.admin, ch.ID)
		if err != nil || got.Kind != app.ChatflowBot || len(got.Steps) != 1 || got.Steps[0].UserIDs[0] != ann.UserID {
			t.Errorf("GetChatflow = %+v, %v", got, err)
		}
	})
}

func asError(err error, target **sb.Error) bool {
	e, ok := err.(*sb.Error)
	for !ok && err != nil {
		u, isWrap := err.(interface{ Unwrap() error })
		if !isWrap {
			return false
		}
		err = u.Unwrap()
		e, ok = err.(*sb.Error)
	}
	*target = e
	return ok && e.Field != ""
}

// TestAnotherContactsEmailLeaksNothing: a visitor who types the email of a
// contact that has its own token is not shown that contact's conversation
// (R-C2: the token is the visitor's credential).
func TestAnotherContactsEmailLeaksNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		ann := e.agent(t, "Ann")
		ch := e.chat(t, open(nil), leastBusy(ann))
		owner := newToken()
		first := e.post(t, ch.ID, widget.PostMessage{VisitorToken: owner, Email: "real@example.com", Body: "my private question"})
		if first.Conversation == nil {
			t.Fatal("the real visitor does not see their conversation")
		}
		intruder := newToken()
		res := e.post(t, ch.ID, widget.PostMessage{VisitorToken: intruder, Email: "real@example.com", Body: "let me see"})
		if res.Conversation != nil {
			t.Errorf("typing another contact's email showed their conversation %+v", res.Conversation)
		}
		if st := e.state(t, ch.ID, intruder, ""); st.Conversation != nil || len(st.Messages) != 0 {
			t.Errorf("the intruder's state shows %+v with %d messages", st.Conversation, len(st.Messages))
		}
		if status, _, _ := e.call(t, "GET", "/widget/v1/"+ch.ID+"/state?visitor_token="+owner, shop, nil); status != 200 {
			t.Fatal(status)
		}
		if st := e.state(t, ch.ID, owner, ""); st.Conversation == nil || st.Conversation.ID != first.Conversation.ID {
			t.Errorf("the real visitor lost their conversation: %+v", st.Conversation)
		}
	})
}
