package main_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestChannelsEndToEnd starts the real binary and reaches it through each
// channel entry point family: Messenger and WhatsApp webhooks (signed with
// the app secret given by flag, replies through a local Graph API), a
// form, and a calling provider's event.
func TestChannelsEndToEnd(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			testChannels(t, db.dsn(t))
		})
	}
}

const (
	e2eAppSecret = "e2e-app-secret-123"
	e2eVerify    = "e2e-verify-token"
)

func hubSign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// rawPost posts body with a content type and headers and returns the status.
func rawPost(t *testing.T, u, ctype string, body []byte, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func testChannels(t *testing.T, dsn string) {
	var mu sync.Mutex
	var graphCalls []string
	graph := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		graphCalls = append(graphCalls, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization")+" "+string(b))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/me/messages":
			io.WriteString(w, `{"recipient_id":"6543210987654321","message_id":"m_e2e_reply"}`)
		case strings.HasSuffix(r.URL.Path, "/messages"):
			io.WriteString(w, `{"messaging_product":"whatsapp","messages":[{"id":"wamid.e2e"}]}`)
		default:
			io.WriteString(w, `{"first_name":"Mia","last_name":"Jensen"}`)
		}
	}))
	t.Cleanup(graph.Close)
	s := startServer(t, "switchboard", dsn, "--meta-app-secret", e2eAppSecret, "--meta-verify-token", e2eVerify, "--graph-api-url", graph.URL)
	var setup struct {
		Token string `json:"token"`
		User  struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	newClient(s.URL, "").must(t, "POST", "/api/v1/setup", map[string]any{"account_name": "E2E", "time_zone": "UTC",
		"admin_email": "admin@e2e.test", "admin_name": "Admin", "password": "correct horse battery"}, &setup)
	c := newClient(s.URL, setup.Token)
	channel := func(kind, config string) string {
		var ch struct {
			ID string `json:"id"`
		}
		c.must(t, "POST", "/api/v1/channels", map[string]any{"kind": kind, "name": kind, "config": json.RawMessage(config),
			"routing":   map[string]any{"enabled": true, "mode": "specific", "user_ids": []string{setup.User.ID}},
			"new_inbox": map[string]any{"name": kind + " inbox", "team_ids": []string{}}}, &ch)
		return ch.ID
	}
	convOn := func(channelID string) string {
		var page struct {
			Items []struct {
				ID         string `json:"id"`
				ChannelID  string `json:"channel_id"`
				AssigneeID string `json:"assignee_id"`
			} `json:"items"`
		}
		c.must(t, "GET", "/api/v1/conversations?view=open&limit=200", nil, &page)
		for _, it := range page.Items {
			if it.ChannelID == channelID {
				if it.AssigneeID != setup.User.ID {
					t.Errorf("conversation on %s assigned to %q, want the admin", channelID, it.AssigneeID)
				}
				return it.ID
			}
		}
		t.Fatalf("no conversation on channel %s", channelID)
		return ""
	}
	sample := func(name string) []byte {
		b, err := os.ReadFile("../../channels/meta/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	t.Run("Messenger", func(t *testing.T) {
		ch := channel("messenger", `{"page_id":"104729415678901","page_access_token":"EAAe2e"}`)
		resp, err := http.Get(s.URL + "/webhooks/messenger?hub.mode=subscribe&hub.verify_token=" + e2eVerify + "&hub.challenge=42")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "42" {
			t.Fatalf("handshake: %d %q", resp.StatusCode, b)
		}
		body := sample("messenger_message.json")
		if st, b := rawPost(t, s.URL+"/webhooks/messenger", "application/json", body); st != 401 {
			t.Fatalf("R-F1 unsigned: %d %s", st, b)
		}
		if st, b := rawPost(t, s.URL+"/webhooks/messenger", "application/json", body, "X-Hub-Signature-256", hubSign(e2eAppSecret, body)); st != 200 {
			t.Fatalf("signed: %d %s", st, b)
		}
		conv := convOn(ch)
		c.must(t, "POST", "/api/v1/conversations/"+conv+"/messages", map[string]any{"body": "On its way!"}, nil)
		deadline := time.Now().Add(20 * time.Second)
		for {
			mu.Lock()
			sent := strings.Join(graphCalls, "\n")
			mu.Unlock()
			if strings.Contains(sent, "POST /me/messages Bearer EAAe2e") && strings.Contains(sent, `"text":"On its way!"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the reply never reached the Graph API; calls:\n%s", sent)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("WhatsApp", func(t *testing.T) {
		ch := channel("whatsapp", `{"phone_number_id":"106540352242922","access_token":"EAAwa"}`)
		body := sample("whatsapp_text.json")
		if st, b := rawPost(t, s.URL+"/webhooks/whatsapp", "application/json", body, "X-Hub-Signature-256", hubSign("wrong", body)); st != 403 {
			t.Fatalf("R-F4 wrongly signed: %d %s", st, b)
		}
		if st, b := rawPost(t, s.URL+"/webhooks/whatsapp", "application/json", body, "X-Hub-Signature-256", hubSign(e2eAppSecret, body)); st != 200 {
			t.Fatalf("signed: %d %s", st, b)
		}
		convOn(ch)
	})

	t.Run("Form", func(t *testing.T) {
		ch := channel("form", `{"redirect_url":"https://example.com/thanks"}`)
		form := url.Values{"name": {"Yuki"}, "email": {"yuki@example.com"}, "message": {"Quote for 40 seats?"}}
		if st, b := rawPost(t, s.URL+"/forms/v1/"+ch, "application/x-www-form-urlencoded", []byte(form.Encode())); st != http.StatusSeeOther {
			t.Fatalf("R-O1 form post: %d %s", st, b)
		}
		convOn(ch)
	})

	t.Run("Calling", func(t *testing.T) {
		secret := "e2e-calling-secret-0001"
		ch := channel("calling", `{"webhook_secret":"`+secret+`"}`)
		ev := []byte(`{"from":"+32470123456","to":"+3220000000","call_id":"CA-e2e","status":"ringing"}`)
		if st, b := rawPost(t, s.URL+"/webhooks/calling/"+ch, "application/json", ev, "X-Switchboard-Signature", hubSign(secret, ev)); st != 200 {
			t.Fatalf("R-O2 call event: %d %s", st, b)
		}
		convOn(ch)
	})

	logs := s.stderr.String() + s.stdout.String()
	for _, secret := range []string{e2eAppSecret, e2eVerify, "EAAe2e", "EAAwa", "e2e-calling-secret-0001"} {
		if strings.Contains(logs, secret) {
			t.Errorf("a secret (%s…) appears in the server's output", secret[:4])
		}
	}
}
