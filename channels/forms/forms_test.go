package forms_test

import (
	"encoding/json"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/channels/forms"
	"github.com/switchboard-dev/switchboard/channels/internal/chantest"
)

func newFormsEnv(t *testing.T, dsn string) *chantest.Env {
	return chantest.New(t, dsn, func(svc *app.Service, log *slog.Logger) func(*http.ServeMux) {
		return forms.New(forms.Config{App: svc, Logger: log}).Mount
	})
}

const quoteForm = `{
  "fields": [
    {"name": "name", "label": "Your name", "type": "text", "maps_to": "contact.name"},
    {"name": "email", "label": "Email", "type": "email", "required": true, "maps_to": "contact.email"},
    {"name": "phone", "label": "Phone", "type": "phone", "maps_to": "contact.phone"},
    {"name": "topic", "label": "Topic", "type": "select", "options": ["Sales", "Support"], "required": true, "maps_to": "subject"},
    {"name": "priority", "label": "Priority", "type": "select", "options": ["low", "high"], "maps_to": "ticket.priority"},
    {"name": "message", "label": "Message", "type": "textarea", "required": true},
    {"name": "utm_source", "type": "hidden"},
    {"name": "plan", "type": "hidden", "maps_to": "ticket.plan"}
  ],
  "redirect_url": "https://shop.example.com/thanks",
  "allowed_origins": ["https://shop.example.com"],
  "rate_per_minute": 1000
}`

func form(e *chantest.Env, channelID string, values url.Values, header ...string) *chantest.Response {
	e.T.Helper()
	return e.Request("POST", "/forms/v1/"+channelID, "", values.Encode(), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)...)
}

func convsOf(e *chantest.Env, channelID string) []*sb.Conversation {
	var out []*sb.Conversation
	for _, c := range e.Conversations() {
		if c.ChannelID == channelID {
			out = append(out, c)
		}
	}
	return out
}

func TestForms(t *testing.T) {
	chantest.ForEachDB(t, func(t *testing.T, dsn string) {
		e := newFormsEnv(t, dsn)
		ada, ben := e.Agent("Ada"), e.Agent("Ben")
		ch := e.Channel(sb.KindForm, quoteForm, ada, ben)

		t.Run("R-O1 a submission becomes a conversation; hidden fields are kept but not shown", func(t *testing.T) {
			r := form(e, ch, url.Values{"name": {"Yuki Tanaka"}, "email": {"Yuki@Example.com"}, "phone": {"+81 3-1234-5678"}, "topic": {"Sales"},
				"priority": {"high"}, "message": {"We need 40 seats.\nCan you quote?"}, "utm_source": {"newsletter-nov"}, "plan": {"enterprise"}})
			if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "https://shop.example.com/thanks" {
				t.Fatalf("plain HTML post: %d %s, want 303 to the thank-you page", r.Status, r.Header.Get("Location"))
			}
			cs := convsOf(e, ch)
			if len(cs) != 1 {
				t.Fatalf("%d conversations, want 1", len(cs))
			}
			c := cs[0]
			if c.Subject != "Sales" {
				t.Errorf("subject %q", c.Subject)
			}
			msg := e.Messages(c.ID)[0]
			if strings.Contains(msg.Body, "newsletter-nov") || strings.Contains(msg.Body, "enterprise") || strings.Contains(msg.Body, "utm_source") {
				t.Errorf("R-O1: hidden fields shown in the thread: %q", msg.Body)
			}
			if !strings.Contains(msg.Body, "Your name: Yuki Tanaka") || !strings.Contains(msg.Body, "Message:\nWe need 40 seats.\nCan you quote?") {
				t.Errorf("body = %q", msg.Body)
			}
			var meta struct {
				Form struct {
					Hidden map[string]string `json:"hidden"`
				} `json:"form"`
				Ticket map[string]string `json:"ticket"`
			}
			if err := json.Unmarshal(msg.Meta, &meta); err != nil || meta.Form.Hidden["utm_source"] != "newsletter-nov" || meta.Form.Hidden["plan"] != "enterprise" {
				t.Errorf("R-O1: hidden fields not kept on the submission: %s", msg.Meta)
			}
			if meta.Ticket["priority"] != "high" || meta.Ticket["plan"] != "enterprise" {
				t.Errorf("ticket fields = %v", meta.Ticket)
			}
			contact := e.Contact(c.ContactID)
			if contact.Email != "yuki@example.com" || contact.Name != "Yuki Tanaka" || contact.Phone != "+81312345678" {
				t.Errorf("contact = %+v", contact)
			}
		})

		t.Run("JSON submissions from the embedding site, with CORS", func(t *testing.T) {
			body := `{"email":"sam@example.com","name":"Sam","topic":"Support","message":"Hello","utm_source":["ads","retarget"]}`
			r := e.Request("POST", "/forms/v1/"+ch, "", body, "Origin", "https://shop.example.com")
			if r.Status != 201 || r.Header.Get("Access-Control-Allow-Origin") != "https://shop.example.com" {
				t.Fatalf("JSON post: %d %v %s", r.Status, r.Header, r.Body)
			}
			r = e.Request("POST", "/forms/v1/"+ch, "", body, "Origin", "https://evil.example")
			if r.Status != 403 || r.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("other origin: %d %v", r.Status, r.Header)
			}
			r = e.Request("OPTIONS", "/forms/v1/"+ch, "", nil, "Origin", "https://shop.example.com", "Access-Control-Request-Method", "POST")
			if r.Status != 204 || !strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), "POST") {
				t.Errorf("preflight: %d %v", r.Status, r.Header)
			}
			if n := len(convsOf(e, ch)); n != 2 {
				t.Errorf("R-O1: every submission is its own conversation: %d, want 2", n)
			}
		})

		t.Run("validation reports every field", func(t *testing.T) {
			r := form(e, ch, url.Values{"email": {"not-an-email"}, "topic": {"Gardening"}, "phone": {"call me"}})
			var b struct {
				Error struct {
					Code   string
					Fields []struct{ Field, Message string }
				}
			}
			_ = json.Unmarshal(r.Body, &b)
			got := map[string]bool{}
			for _, f := range b.Error.Fields {
				got[f.Field] = true
			}
			if r.Status != 422 || b.Error.Code != "invalid_fields" || !got["email"] || !got["topic"] || !got["message"] || !got["phone"] || len(got) != 4 {
				t.Errorf("invalid submission: %d %s", r.Status, r.Body)
			}
			for _, bad := range []struct {
				ct, body string
				status   int
			}{{"application/json", `["x"]`, 400}, {"application/json", `{"email":{"a":1}}`, 400}, {"multipart/form-data; boundary=x", "garbage", 400}, {"text/plain", "email=x", 415}} {
				if r := e.Request("POST", "/forms/v1/"+ch, "", bad.body, "Content-Type", bad.ct); r.Status != bad.status {
					t.Errorf("%s %s: %d %s, want %d", bad.ct, bad.body, r.Status, r.Body, bad.status)
				}
			}
			if n := len(convsOf(e, ch)); n != 2 {
				t.Errorf("refused submissions stored something: %d conversations", n)
			}
			if r := e.Request("POST", "/forms/v1/nope", "", `{}`); r.Status != 404 {
				t.Errorf("unknown form: %d", r.Status)
			}
		})

		t.Run("multipart HTML forms are taken too", func(t *testing.T) {
			var buf strings.Builder
			mw := multipart.NewWriter(&buf)
			for k, v := range map[string]string{"email": "mp@example.com", "topic": "Support", "message": "from a multipart form", "utm_source": "mp"} {
				_ = mw.WriteField(k, v)
			}
			fw, _ := mw.CreateFormFile("attachment", "a.txt")
			_, _ = fw.Write([]byte("ignored"))
			_ = mw.Close()
			r := e.Request("POST", "/forms/v1/"+ch, "", buf.String(), "Content-Type", mw.FormDataContentType())
			if r.Status != http.StatusSeeOther {
				t.Fatalf("multipart: %d %s", r.Status, r.Body)
			}
			if n := len(convsOf(e, ch)); n != 3 {
				t.Errorf("%d conversations, want 3", n)
			}
		})

		t.Run("a filled honeypot is answered as accepted and stored nowhere", func(t *testing.T) {
			r := form(e, ch, url.Values{"email": {"bot@spam.example"}, "topic": {"Sales"}, "message": {"cheap pills"}, forms.DefaultHoneypot: {"http://spam.example"}})
			if r.Status != http.StatusSeeOther {
				t.Errorf("honeypot: %d, want the same answer as a real submission", r.Status)
			}
			if n := len(convsOf(e, ch)); n != 3 {
				t.Errorf("the honeypot submission was stored: %d conversations", n)
			}
		})

		t.Run("R-A6 form channels pick a random candidate", func(t *testing.T) {
			seen := map[string]int{}
			for i := range 12 {
				e.Want(201, "POST", "/forms/v1/"+ch, "", map[string]string{"email": "r" + string(rune('a'+i)) + "@example.com", "topic": "Sales", "message": "hi"}, nil)
			}
			for _, c := range convsOf(e, ch) {
				if s := e.Strategy(c.ID); s != "random" {
					t.Errorf("R-A6: form strategy %q, want random", s)
				}
				seen[c.AssigneeID]++
			}
			if seen[ada] == 0 || seen[ben] == 0 {
				t.Errorf("R-A6: 15 random picks all went to one agent: %v", seen)
			}
		})
	})
}

func TestFormRateLimit(t *testing.T) {
	e := newFormsEnv(t, "sqlite:"+t.TempDir()+"/t.db")
	ch := e.Channel(sb.KindForm, `{"rate_per_minute":2}`)
	ok, limited := 0, 0
	for i := range 4 {
		r := e.Request("POST", "/forms/v1/"+ch, "", map[string]string{"email": "x" + string(rune('a'+i)) + "@example.com", "message": "hi"})
		switch r.Status {
		case 201:
			ok++
		case 429:
			limited++
			if r.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		default:
			t.Fatalf("status %d %s", r.Status, r.Body)
		}
	}
	if ok != 2 || limited != 2 {
		t.Errorf("2 per minute: %d accepted, %d limited; want 2 and 2", ok, limited)
	}
}

func TestFormConfig(t *testing.T) {
	e := newFormsEnv(t, "sqlite:"+t.TempDir()+"/t.db")
	for _, bad := range []string{
		`{"fields":[{"name":"msg","type":"textarea"}]}`,
		`{"fields":[{"name":"email","type":"text","maps_to":"contact.email"}]}`,
		`{"fields":[{"name":"email","type":"email","maps_to":"contact.email"},{"name":"email","type":"text"}]}`,
		`{"fields":[{"name":"email","type":"email","maps_to":"contact.email"},{"name":"c","type":"select"}]}`,
		`{"fields":[{"name":"email","type":"email","maps_to":"contact.email"},{"name":"c","type":"date"}]}`,
		`{"fields":[{"name":"email","type":"email","maps_to":"contact.email"}],"redirect_url":"javascript:alert(1)"}`,
	} {
		r := e.Request("POST", "/api/v1/channels", e.Admin, map[string]any{"kind": "form", "name": "f", "config": json.RawMessage(bad),
			"new_inbox": map[string]any{"name": "f", "team_ids": []string{}}})
		if r.Status != 400 {
			t.Errorf("config %s: %d %s, want 400", bad, r.Status, r.Body)
		}
	}
}

// FuzzFormParse: any JSON body parses or is refused, never panics, and a
// parsed submission never shows a hidden field's value in its body.
func FuzzFormParse(f *testing.F) {
	f.Add([]byte(`{"email":"a@b.co","message":"hi","utm":"SECRET-HIDDEN"}`))
	f.Add([]byte(`{"email":"a@b.co","message":["a",1,true,null],"utm":"x"}`))
	f.Add([]byte(`{"email":"not mail","_gotcha":"x"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"email":{"x":1}}`))
	f.Add([]byte("{\"email\":\"a@b.co\",\"message\":\"\xff\"}"))
	def, err := forms.ParseConfig(json.RawMessage(`{"fields":[
		{"name":"email","type":"email","required":true,"maps_to":"contact.email"},
		{"name":"phone","type":"phone","maps_to":"contact.phone"},
		{"name":"kind","type":"select","options":["a","b"]},
		{"name":"message","type":"textarea","required":true},
		{"name":"utm","type":"hidden","maps_to":"ticket.source"}]}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		vals, err := forms.ParseJSON(body)
		if err != nil {
			return
		}
		sub, errs := def.Parse(vals)
		if len(errs) > 0 {
			if sub != nil {
				t.Fatal("errors and a submission")
			}
			return
		}
		if sub.Spam {
			return
		}
		if sub.Contact.Email == "" && sub.Contact.Phone == "" {
			t.Fatalf("a submission without a contact key: %+v", sub)
		}
		if h := sub.Hidden["utm"]; len(h) > 3 && strings.Contains(sub.Body, h) && !strings.Contains(vals["message"]+vals["email"]+vals["phone"]+vals["kind"], h) {
			t.Fatalf("R-O1: hidden value %q shown in body %q", h, sub.Body)
		}
	})
}
