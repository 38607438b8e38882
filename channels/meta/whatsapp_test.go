package meta_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/channels/internal/chantest"
	"github.com/switchboard-dev/switchboard/channels/internal/hook"
)

const (
	phoneNumberID = "106540352242922"
	waToken       = "EAAwhatsapptoken456"
)

func waConv(e *chantest.Env, channelID, phone string) *sb.Conversation {
	e.T.Helper()
	for _, c := range e.Conversations() {
		if c.ChannelID == channelID && e.Contact(c.ContactID).Phone == phone {
			return c
		}
	}
	return nil
}

func TestWhatsApp(t *testing.T) {
	chantest.ForEachDB(t, func(t *testing.T, dsn string) {
		e, g := newMetaEnv(t, dsn)
		ada, ben := e.Agent("Ada"), e.Agent("Ben")
		ch := e.Channel(sb.KindWhatsApp, `{"phone_number_id":"`+phoneNumberID+`","access_token":"`+waToken+`"}`, ada, ben)
		text := sample(t, "whatsapp_text.json")

		t.Run("R-F4 unsigned and badly signed webhooks are refused, nothing stored", func(t *testing.T) {
			if r := post(e, "/webhooks/whatsapp", text, ""); r.Status != 401 {
				t.Errorf("unsigned: %d %s", r.Status, r.Body)
			}
			if r := post(e, "/webhooks/whatsapp", text, hook.Sign("nope", text)); r.Status != 403 {
				t.Errorf("wrong signature: %d %s", r.Status, r.Body)
			}
			bad := []byte(`{"object":"page","entry":[]}`)
			if r := post(e, "/webhooks/whatsapp", bad, hook.Sign(appSecret, bad)); r.Status != 400 {
				t.Errorf("a Messenger body on the WhatsApp webhook: %d %s", r.Status, r.Body)
			}
			if n := len(e.Conversations()); n != 0 {
				t.Fatalf("%d conversations stored by refused calls", n)
			}
		})

		var conv *sb.Conversation
		t.Run("R-F4 text and media messages from a verified number (R-A6 least busy)", func(t *testing.T) {
			signed(e, "/webhooks/whatsapp", text)
			signed(e, "/webhooks/whatsapp", text) // Meta retries: de-duplicated by wamid
			signed(e, "/webhooks/whatsapp", sample(t, "whatsapp_image.json"))
			conv = waConv(e, ch, "+16505551234")
			if conv == nil {
				t.Fatal("no conversation for the WhatsApp user")
			}
			if s := e.Strategy(conv.ID); s != "least_busy" {
				t.Errorf("R-A6: WhatsApp strategy %q, want least_busy", s)
			}
			if c := e.Contact(conv.ContactID); c.Name != "Sheena Nelson" {
				t.Errorf("contact = %+v", c)
			}
			msgs := e.Messages(conv.ID)
			if len(msgs) != 2 || msgs[0].Body != "Does it come in another color?" || msgs[1].Body != "[image] The scratch on the lid" {
				t.Fatalf("thread = %+v", msgs)
			}
			var meta struct {
				WhatsApp struct {
					Media struct {
						ID       string `json:"id"`
						MimeType string `json:"mime_type"`
					} `json:"media"`
				} `json:"whatsapp"`
			}
			if err := json.Unmarshal(msgs[1].Meta, &meta); err != nil || meta.WhatsApp.Media.ID != "2754859441498128" || meta.WhatsApp.Media.MimeType != "image/jpeg" {
				t.Errorf("media meta = %s", msgs[1].Meta)
			}
		})

		t.Run("R-F4 replies within 24 hours go through the Cloud API; statuses update them", func(t *testing.T) {
			e.Clock.Advance(2 * time.Hour)
			e.Want(201, "POST", "/api/v1/conversations/"+conv.ID+"/messages", e.Admin, map[string]any{"body": "Yes: blue and green."}, nil)
			e.Eventually("the reply is sent", func() bool { m := lastOut(e, conv.ID); return m != nil && m.Delivery == sb.DeliverySent })
			calls := g.sent("/" + phoneNumberID + "/messages")
			if len(calls) != 1 {
				t.Fatalf("Cloud API calls: %+v", calls)
			}
			c := calls[0]
			if c.Auth != "Bearer "+waToken || c.Body["messaging_product"] != "whatsapp" || c.Body["to"] != "16505551234" ||
				c.Body["type"] != "text" || c.Body["text"].(map[string]any)["body"] != "Yes: blue and green." {
				t.Errorf("Cloud API call = %+v", c)
			}
			if m := lastOut(e, conv.ID); m.ExternalID != "wamid.REPLY_FROM_GRAPH" {
				t.Errorf("external id %q", m.ExternalID)
			}
			signed(e, "/webhooks/whatsapp", sample(t, "whatsapp_status_delivered.json"))
			if m := lastOut(e, conv.ID); m.Delivery != sb.DeliverySent || m.DeliveryDetail != "delivered" {
				t.Errorf("after delivered: %q/%q", m.Delivery, m.DeliveryDetail)
			}
			signed(e, "/webhooks/whatsapp", sample(t, "whatsapp_status_failed.json"))
			if m := lastOut(e, conv.ID); m.Delivery != sb.DeliveryFailed || !strings.Contains(m.DeliveryDetail, "24 hours") {
				t.Errorf("after failed: %q/%q", m.Delivery, m.DeliveryDetail)
			}
		})

		t.Run("R-F4 outside the 24-hour window free text is refused, saying why", func(t *testing.T) {
			e.Clock.Advance(23 * time.Hour) // 25 h after the customer's last message
			r := e.Request("POST", "/api/v1/conversations/"+conv.ID+"/messages", e.Admin, map[string]any{"body": "Any news?"})
			if code, _ := r.Error(); r.Status != 422 || code != "outside_reply_window" || !strings.Contains(string(r.Body), "template") {
				t.Errorf("after 25 h: %d %s", r.Status, r.Body)
			}
			// The customer writes again: the window opens again.
			again := []byte(strings.NewReplacer("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", "wamid.AGAIN", "Does it come in another color?", "Hello again").Replace(string(text)))
			signed(e, "/webhooks/whatsapp", again)
			// The platform refuses it for good (e.g. the number cannot receive messages): failed, with its reason.
			g.set(func(g *fakeGraph) { g.fail, g.code = 400, 131026 })
			if r := e.Request("POST", "/api/v1/conversations/"+conv.ID+"/messages", e.Admin, map[string]any{"body": "Welcome back"}); r.Status != 201 {
				t.Errorf("after the customer wrote again: %d %s", r.Status, r.Body)
			}
			e.Eventually("the refused reply is marked failed", func() bool {
				m := lastOut(e, conv.ID)
				return m.Body == "Welcome back" && m.Delivery == sb.DeliveryFailed
			})
			if m := lastOut(e, conv.ID); !strings.Contains(m.DeliveryDetail, "fake failure") {
				t.Errorf("failure detail %q does not carry the platform's reason", m.DeliveryDetail)
			}
			g.set(func(g *fakeGraph) { g.fail = 0 })
		})

		t.Run("R-F1 a number belongs to one channel", func(t *testing.T) {
			r := e.Request("POST", "/api/v1/channels", e.Admin, map[string]any{"kind": "whatsapp", "name": "Again",
				"config": map[string]any{"phone_number_id": phoneNumberID}, "new_inbox": map[string]any{"name": "wa again", "team_ids": []string{}}})
			if code, _ := r.Error(); r.Status != 422 || code != "already_connected" {
				t.Errorf("same number again: %d %s", r.Status, r.Body)
			}
		})
	})
}
