package main_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookReceiver is a webhook endpoint in the test process that checks
// each delivery's signature the way docs/tickets-webhooks.md tells
// receivers to.
type hookReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	got    []map[string]any
	bad    []string
	arrive chan struct{}
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{arrive: make(chan struct{}, 64)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer func() { r.mu.Unlock(); r.arrive <- struct{}{} }()
		if err := verifyHookSignature(r.secret, req.Header.Get("Switchboard-Signature"), body); err != nil {
			r.bad = append(r.bad, err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		m["header_event"] = req.Header.Get("Switchboard-Event")
		r.got = append(r.got, m)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// verifyHookSignature is the recipe: t and v1 from the header, HMAC-SHA256 of
// "<t>.<raw body>" keyed with the secret, constant-time compare, fresh t.
func verifyHookSignature(secret, header string, body []byte) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		if k == "t" {
			ts = v
		} else if k == "v1" {
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return errors.New("stale or missing timestamp")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, want) {
		return errors.New("signature mismatch")
	}
	return nil
}

// TestWebhooksEndToEnd: through the real binary, an inbound message on a
// channel that treats conversations as tickets reaches a subscribed
// receiver as a signed conversation.created and ticket.created (R-X8,
// R-T1); without --webhooks-allow-private a loopback URL is refused.
func TestWebhooksEndToEnd(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, "hooks", db.dsn(t), "--webhooks-allow-private")
			var setup tokenOnly
			newClient(s.URL, "").must(t, "POST", "/api/v1/setup", map[string]any{
				"account_name": "Hooks", "time_zone": "UTC", "admin_email": adminEmail, "admin_name": "Admin", "password": adminPassword,
			}, &setup)
			admin := newClient(s.URL, setup.Token)
			var inbox, ch idOnly
			admin.must(t, "POST", "/api/v1/inboxes", map[string]any{"name": "Support", "team_ids": []string{}}, &inbox)
			admin.must(t, "POST", "/api/v1/inboxes/"+inbox.ID+"/channels", map[string]any{
				"kind": "email", "name": "help", "tickets": map[string]any{"enabled": true, "pipeline": "Support", "stage": "New"},
			}, &ch)

			r := newHookReceiver(t)
			var hook struct {
				ID     string `json:"id"`
				Secret string `json:"secret"`
			}
			admin.must(t, "POST", "/api/v1/webhooks", map[string]any{
				"url": r.srv.URL + "/switchboard", "events": []string{"conversation.created", "ticket.created"},
			}, &hook)
			r.mu.Lock()
			r.secret = hook.Secret
			r.mu.Unlock()

			var res struct {
				Conversation struct {
					ID       string `json:"id"`
					TicketID string `json:"ticket_id"`
				} `json:"conversation"`
			}
			admin.must(t, "POST", "/api/v1/channels/"+ch.ID+"/inbound", map[string]any{
				"contact": map[string]any{"email": "carla@example.com"}, "body": "My order never came", "external_id": "e2e-hook-1",
			}, &res)

			deadline := time.After(60 * time.Second)
			for {
				r.mu.Lock()
				got, bad := append([]map[string]any(nil), r.got...), r.bad
				r.mu.Unlock()
				if len(bad) > 0 {
					t.Fatalf("R-X8: deliveries with bad signatures: %v", bad)
				}
				if len(got) >= 2 {
					byType := map[string]map[string]any{}
					for _, m := range got {
						byType[m["header_event"].(string)] = m
					}
					cc, tc := byType["conversation.created"], byType["ticket.created"]
					if cc == nil || tc == nil {
						t.Fatalf("got %v", got)
					}
					if d := cc["data"].(map[string]any); d["id"] != res.Conversation.ID || d["ticket_id"] != res.Conversation.TicketID {
						t.Fatalf("R-X8 conversation.created data %v, want conversation %s with ticket %s", d, res.Conversation.ID, res.Conversation.TicketID)
					}
					if d := tc["data"].(map[string]any); d["id"] != res.Conversation.TicketID || d["conversation_id"] != res.Conversation.ID {
						t.Fatalf("ticket.created data %v", d)
					}
					break
				}
				select {
				case <-r.arrive:
				case <-deadline:
					t.Fatalf("R-X8: the receiver got %d deliveries in 60s, want 2", len(got))
				}
			}
			var deliveries page[struct {
				StatusCode int    `json:"status_code"`
				EventType  string `json:"event_type"`
			}]
			// The receiver answers before the server records the attempt.
			for end := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				admin.must(t, "GET", "/api/v1/webhooks/"+hook.ID+"/deliveries", nil, &deliveries)
				if len(deliveries.Items) >= 2 || time.Now().After(end) {
					break
				}
			}
			if len(deliveries.Items) != 2 || deliveries.Items[0].StatusCode != 200 || deliveries.Items[1].StatusCode != 200 {
				t.Fatalf("deliveries %+v", deliveries.Items)
			}
		})
	}
	t.Run("R-X8 loopback refused without the flag", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "strict", databases[0].dsn(t))
		var setup tokenOnly
		newClient(s.URL, "").must(t, "POST", "/api/v1/setup", map[string]any{
			"account_name": "Strict", "time_zone": "UTC", "admin_email": adminEmail, "admin_name": "Admin", "password": adminPassword,
		}, &setup)
		status, err := newClient(s.URL, setup.Token).call("POST", "/api/v1/webhooks", map[string]any{
			"url": "http://127.0.0.1:9/x", "events": []string{"message.created"},
		}, nil)
		if status != http.StatusBadRequest || err == nil || !strings.Contains(err.Error(), "webhooks-allow-private") {
			t.Fatalf("got %d %v, want 400 naming --webhooks-allow-private", status, err)
		}
	})
}
