package widget_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/widget"
)

// TestTranscript: R-C4. When a chat of a channel with transcripts on
// closes, the visitor is mailed the chat (no internal notes) through the
// outbound mail job, from the configured sender; with the switch off, or
// without an email, nothing is sent.
func TestTranscript(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		mails := make(chan app.OutMail, 10)
		capture := func(svc *app.Service) {
			svc.HandleJobs(app.JobMail, func(ctx context.Context, j *sb.Job) error {
				var m app.OutMail
				if err := json.Unmarshal(j.Payload, &m); err != nil {
					return app.Permanent(err)
				}
				mails <- m
				return nil
			})
		}
		e := newEnv(t, dsn, capture)
		ctx := context.Background()
		ann := e.agent(t, "Ann")
		on := e.chat(t, open(map[string]any{"company_name": "Acme Shop", "transcripts": map[string]any{"enabled": true, "from_channel_id": "support-mail"}}), leastBusy(ann))
		off := e.chat(t, open(nil), leastBusy(ann))

		res := e.post(t, on.ID, widget.PostMessage{VisitorToken: newToken(), Email: "vera@example.com", Name: "Vera", Body: "Where is my <order>?"})
		if _, err := e.svc.Reply(ctx, ann, res.Conversation.ID, app.ReplyInput{Body: "It ships today."}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Reply(ctx, ann, res.Conversation.ID, app.ReplyInput{Body: "secret note", Internal: true}); err != nil {
			t.Fatal(err)
		}
		quiet := e.post(t, off.ID, widget.PostMessage{VisitorToken: newToken(), Email: "olaf@example.com", Body: "hello"})
		anonymous := e.post(t, on.ID, widget.PostMessage{VisitorToken: newToken(), Body: "no email"})
		for _, id := range []string{quiet.Conversation.ID, anonymous.Conversation.ID, res.Conversation.ID} {
			if _, err := e.svc.SetOpen(ctx, ann, id, false); err != nil {
				t.Fatal(err)
			}
		}
		var m app.OutMail
		select {
		case m = <-mails:
		case <-time.After(10 * time.Second):
			t.Fatal("no transcript mail within 10s")
		}
		if len(m.To) != 1 || m.To[0] != "vera@example.com" || m.ChannelID != "support-mail" || m.Subject != "Your chat with Acme Shop" {
			t.Errorf("mail = to %v from channel %q subject %q", m.To, m.ChannelID, m.Subject)
		}
		for _, want := range []string{"Vera:\nWhere is my <order>?", "Ann:\nIt ships today."} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("text lacks %q:\n%s", want, m.Text)
			}
		}
		if strings.Contains(m.Text, "secret note") || strings.Contains(m.HTML, "secret note") {
			t.Error("the transcript contains an internal note")
		}
		if !strings.Contains(m.HTML, "Where is my &lt;order&gt;?") {
			t.Errorf("the HTML does not escape the visitor's text:\n%s", m.HTML)
		}
		select {
		case extra := <-mails:
			t.Errorf("a transcript was sent for a chat that should get none: %+v", extra.To)
		case <-time.After(300 * time.Millisecond):
		}
	})
}
