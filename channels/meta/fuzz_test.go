package meta_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/switchboard-dev/switchboard/channels/meta"
)

func seeds(f *testing.F, prefix string) {
	files, _ := filepath.Glob("testdata/" + prefix + "*.json")
	if len(files) == 0 {
		f.Fatalf("no %s samples", prefix)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{"", "null", "{}", "[]", `{"object":"page","entry":null}`, `{"object":"page","entry":[{"messaging":[{}]}]}`,
		`{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"2"},"message":{"mid":"m","text":"\xff"}}]}]}`,
		`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[{"from":"2","id":"w","type":"image","timestamp":"1e99"}]}}]}]}`} {
		f.Add([]byte(s))
	}
}

// FuzzMessengerWebhook: any body parses or is refused as Invalid, never
// panics, and every event it yields has what its handler needs.
func FuzzMessengerWebhook(f *testing.F) {
	seeds(f, "messenger")
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := meta.ParseMessenger(body)
		if err != nil {
			return
		}
		for _, ev := range evs {
			if ev.PageID == "" || ev.PSID == "" {
				t.Fatalf("event without ids: %+v", ev)
			}
			switch ev.Kind {
			case meta.EventMessage, meta.EventPostback:
				b := ev.Body()
				if ev.MID == "" || strings.TrimSpace(b) == "" || !utf8.ValidString(b) {
					t.Fatalf("message event unusable: %+v body %q", ev, b)
				}
			case meta.EventDelivery, meta.EventRead:
			default:
				t.Fatalf("unknown kind %q", ev.Kind)
			}
		}
	})
}

// FuzzWhatsAppWebhook is FuzzMessengerWebhook for WhatsApp bodies.
func FuzzWhatsAppWebhook(f *testing.F) {
	seeds(f, "whatsapp")
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := meta.ParseWhatsApp(body)
		if err != nil {
			return
		}
		for _, ev := range evs {
			if ev.PhoneNumberID == "" || ev.ID == "" {
				t.Fatalf("event without ids: %+v", ev)
			}
			if ev.Kind == meta.WAMessage {
				b := ev.Body()
				if ev.WaID == "" || strings.TrimSpace(b) == "" || !utf8.ValidString(b) {
					t.Fatalf("message unusable: %+v body %q", ev, b)
				}
			} else if ev.Status == "" {
				t.Fatalf("status without a status: %+v", ev)
			}
		}
	})
}
