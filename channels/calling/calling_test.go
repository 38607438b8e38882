package calling_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/channels/calling"
	"github.com/switchboard-dev/switchboard/channels/internal/chantest"
	"github.com/switchboard-dev/switchboard/channels/internal/hook"
)

const secret = "calling-shared-secret-0001"

func callEvent(e *chantest.Env, channelID string, ev map[string]any, sig func([]byte) string) *chantest.Response {
	e.T.Helper()
	body, _ := json.Marshal(ev)
	h := []string{}
	if sig != nil {
		h = []string{calling.SignatureHeader, sig(body)}
	}
	return e.Request("POST", "/webhooks/calling/"+channelID, "", body, h...)
}

func good(b []byte) string { return hook.Sign(secret, b) }

func TestCalling(t *testing.T) {
	chantest.ForEachDB(t, func(t *testing.T, dsn string) {
		e := chantest.New(t, dsn, func(svc *app.Service, log *slog.Logger) func(*http.ServeMux) {
			return calling.New(calling.Options{App: svc, Logger: log}).Mount
		})
		ada, ben := e.Agent("Ada"), e.Agent("Ben")
		ch := e.Channel(sb.KindCalling, `{"webhook_secret":"`+secret+`","number":"+3220000000"}`, ada, ben)
		ring := map[string]any{"from": "+32 470 12 34 56", "to": "+3220000000", "call_id": "CA100", "status": "ringing"}

		t.Run("unsigned and badly signed events are refused, nothing stored", func(t *testing.T) {
			if r := callEvent(e, ch, ring, nil); r.Status != 401 || !strings.Contains(string(r.Body), calling.SignatureHeader) {
				t.Errorf("unsigned: %d %s", r.Status, r.Body)
			}
			if r := callEvent(e, ch, ring, func(b []byte) string { return hook.Sign("guess", b) }); r.Status != 403 {
				t.Errorf("wrong secret: %d %s", r.Status, r.Body)
			}
			if len(e.Conversations()) != 0 {
				t.Fatal("a refused event was stored")
			}
			if strings.Contains(e.Logs.String(), secret) {
				t.Error("the secret was logged")
			}
			for _, bad := range []map[string]any{
				{"from": "", "call_id": "x", "status": "ringing"},
				{"from": "+1", "call_id": "", "status": "ringing"},
				{"from": "+1555", "call_id": "x", "status": "on hold"},
				{"from": "+1555", "call_id": "x", "status": "completed", "recording_url": "ftp://x"},
				{"from": "+1555", "call_id": "x", "status": "completed", "duration": -3},
				{"from": "+1555", "call_id": 7, "status": "ringing"},
			} {
				if r := callEvent(e, ch, bad, good); r.Status != 400 {
					t.Errorf("%v: %d %s, want 400", bad, r.Status, r.Body)
				}
			}
		})

		var convID string
		t.Run("R-O2 a call starts a conversation with the caller; its events share the thread", func(t *testing.T) {
			var res calling.Result
			e.Want(200, "POST", "/webhooks/calling/"+ch, "", mustJSON(ring), &res, calling.SignatureHeader, good(mustJSON(ring)))
			convID = res.ConversationID
			answered := map[string]any{"from": "+32470123456", "call_id": "CA100", "status": "answered"}
			completed := map[string]any{"from": "+32470123456", "call_id": "CA100", "status": "completed", "duration": 125,
				"recording_url": "https://calls.example.com/rec/CA100.mp3", "transcript": "Hi, my router blinks red."}
			for _, ev := range []map[string]any{answered, completed, completed} { // the provider repeats the last one
				var r calling.Result
				e.Want(200, "POST", "/webhooks/calling/"+ch, "", mustJSON(ev), &r, calling.SignatureHeader, good(mustJSON(ev)))
				if r.ConversationID != convID {
					t.Errorf("R-O2: event %v went to %s, want %s", ev["status"], r.ConversationID, convID)
				}
			}
			msgs := e.Messages(convID)
			if len(msgs) != 3 {
				t.Fatalf("R-O2: %d messages, want 3 (a repeated event is stored once)", len(msgs))
			}
			if msgs[0].Body != "Incoming call from +32470123456" || msgs[1].Body != "Call answered" ||
				msgs[2].Body != "Call completed (2m5s)\nRecording: https://calls.example.com/rec/CA100.mp3\nTranscript:\nHi, my router blinks red." {
				t.Errorf("thread = %q | %q | %q", msgs[0].Body, msgs[1].Body, msgs[2].Body)
			}
			if !strings.Contains(string(msgs[2].Meta), `"recording_url":"https://calls.example.com/rec/CA100.mp3"`) {
				t.Errorf("call meta = %s", msgs[2].Meta)
			}
			var conv sb.Conversation
			e.Want(200, "GET", "/api/v1/conversations/"+convID, e.Admin, nil, &conv)
			if c := e.Contact(conv.ContactID); c.Phone != "+32470123456" {
				t.Errorf("R-O2: caller contact = %+v", c)
			}
			if s := e.Strategy(convID); s != "least_busy" {
				t.Errorf("R-A6: calling strategy %q, want least_busy", s)
			}
		})

		t.Run("R-O2 a later call of the same caller continues the conversation, even once closed for its own events", func(t *testing.T) {
			missed := map[string]any{"from": "0032470123456", "call_id": "CA200", "status": "missed"}
			var r calling.Result
			e.Want(200, "POST", "/webhooks/calling/"+ch, "", mustJSON(missed), &r, calling.SignatureHeader, good(mustJSON(missed)))
			if r.ConversationID != convID {
				t.Errorf("R-O2: the caller's next call started %s, want the open conversation %s", r.ConversationID, convID)
			}
			e.Want(200, "POST", "/api/v1/conversations/"+convID+"/close", e.Admin, nil, nil)
			late := map[string]any{"from": "+32470123456", "call_id": "CA100", "status": "completed", "duration": 125, "transcript": "late copy"}
			late["status"] = "answered" // already stored: a duplicate, same conversation
			e.Want(200, "POST", "/webhooks/calling/"+ch, "", mustJSON(late), &r, calling.SignatureHeader, good(mustJSON(late)))
			if !r.Duplicate || r.ConversationID != convID {
				t.Errorf("replayed event: %+v", r)
			}
		})

		t.Run("R-A6 least busy: a new caller goes to the other agent", func(t *testing.T) {
			other := map[string]any{"from": "+14155550100", "call_id": "CA300", "status": "ringing"}
			var r calling.Result
			e.Want(200, "POST", "/webhooks/calling/"+ch, "", mustJSON(other), &r, calling.SignatureHeader, good(mustJSON(other)))
			var first, second sb.Conversation
			e.Want(200, "GET", "/api/v1/conversations/"+convID, e.Admin, nil, &first)
			e.Want(200, "GET", "/api/v1/conversations/"+r.ConversationID, e.Admin, nil, &second)
			if second.AssigneeID == "" || second.AssigneeID == first.AssigneeID && first.Status == sb.StatusOpen {
				t.Errorf("R-A6: new caller assigned %q (first call's agent %q, %s)", second.AssigneeID, first.AssigneeID, first.Status)
			}
			if s := e.Strategy(r.ConversationID); s != "least_busy" {
				t.Errorf("R-A6: strategy %q", s)
			}
		})
	})
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// FuzzCallEvent: any body parses or is refused as Invalid, never panics,
// and a parsed event has a caller and a thread text.
func FuzzCallEvent(f *testing.F) {
	f.Add([]byte(`{"from":"+32470123456","to":"+3220000000","call_id":"CA1","status":"completed","duration":125,"recording_url":"https://x.example/r.mp3","transcript":"hi"}`))
	f.Add([]byte(`{"from":"00 32 470","call_id":"c","status":"missed"}`))
	f.Add([]byte(`{"from":"x","call_id":"c","status":"ringing"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := calling.ParseEvent(body)
		if err != nil {
			if !sb.IsKind(err, sb.Invalid) {
				t.Fatalf("error of kind %v: %v", err, err)
			}
			return
		}
		if hook.Phone(e.From) == "" || e.CallID == "" || strings.TrimSpace(e.Body()) == "" {
			t.Fatalf("parsed event unusable: %+v", e)
		}
	})
}
