package meta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// flexTime is a Meta timestamp: a JSON number or a numeric string, in
// milliseconds (Messenger) or seconds (WhatsApp) since the epoch.
type flexTime int64

func (f *flexTime) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// Some payloads carry floats; keep the integral part.
		fl, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || fl < 0 || fl > 1e15 {
			return fmt.Errorf("timestamp %q is not a number", s)
		}
		n = int64(fl)
	}
	*f = flexTime(n)
	return nil
}

// millis turns a millisecond timestamp into a time (zero for 0 and for
// values out of any plausible range).
func (f flexTime) millis() time.Time {
	if f <= 0 || f > 1e14 {
		return time.Time{}
	}
	return time.UnixMilli(int64(f)).UTC()
}

// seconds turns a second timestamp into a time.
func (f flexTime) seconds() time.Time {
	if f <= 0 || f > 1e11 {
		return time.Time{}
	}
	return time.Unix(int64(f), 0).UTC()
}

// Messenger event kinds.
const (
	EventMessage  = "message"
	EventPostback = "postback"
	EventDelivery = "delivery"
	EventRead     = "read"
)

// MessengerEvent is one messaging event of a Messenger webhook, flattened.
type MessengerEvent struct {
	Kind        string // EventMessage, EventPostback, EventDelivery, EventRead
	PageID      string
	PSID        string // the person's page-scoped id
	Time        time.Time
	MID         string       // message and postback
	Text        string       // message text, or the postback button's title
	Payload     string       // quick reply or postback payload
	Attachments []Attachment // message attachments
	Mids        []string     // delivery: the page's messages delivered
	Watermark   time.Time    // delivery, read: everything sent before it
	// Standby: the thread is controlled by another app (handover
	// protocol); Switchboard records it but sends nothing automatically.
	Standby bool
}

// Attachment is a file or other non-text part of a Messenger message.
type Attachment struct {
	Type string `json:"type"`
	URL  string `json:"url,omitempty"`
}

type messengerWebhook struct {
	Object string `json:"object"`
	Entry  []struct {
		ID        string           `json:"id"`
		Time      flexTime         `json:"time"`
		Messaging []messagingEvent `json:"messaging"`
		// Standby: events of threads another app controls (handover protocol).
		Standby []messagingEvent `json:"standby"`
	} `json:"entry"`
}

type messagingEvent struct {
	Sender struct {
		ID string `json:"id"`
	} `json:"sender"`
	Recipient struct {
		ID string `json:"id"`
	} `json:"recipient"`
	Timestamp flexTime `json:"timestamp"`
	Message   *struct {
		MID        string `json:"mid"`
		Text       string `json:"text"`
		IsEcho     bool   `json:"is_echo"`
		QuickReply *struct {
			Payload string `json:"payload"`
		} `json:"quick_reply"`
		Attachments []struct {
			Type    string `json:"type"`
			Payload struct {
				URL string `json:"url"`
			} `json:"payload"`
		} `json:"attachments"`
	} `json:"message"`
	Postback *struct {
		MID     string `json:"mid"`
		Title   string `json:"title"`
		Payload string `json:"payload"`
	} `json:"postback"`
	Delivery *struct {
		Mids      []string `json:"mids"`
		Watermark flexTime `json:"watermark"`
	} `json:"delivery"`
	Read *struct {
		Watermark flexTime `json:"watermark"`
	} `json:"read"`
}

// ParseMessenger parses a Messenger webhook body (object "page"). It
// keeps message (not echoes of the page's own messages), postback,
// delivery and read events and skips every other kind and any event
// without the ids it needs. Invalid if the body is not a page webhook.
func ParseMessenger(body []byte) ([]MessengerEvent, error) {
	const op = "meta.ParseMessenger"
	var w messengerWebhook
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, sb.E(op, sb.Invalid, "bad_payload", "the body is not a Messenger webhook: %v", err)
	}
	if w.Object != "page" {
		return nil, sb.E(op, sb.Invalid, "bad_payload", "the webhook object is %q, want \"page\"", w.Object)
	}
	var out []MessengerEvent
	for _, e := range w.Entry {
		all := append(e.Messaging[:len(e.Messaging):len(e.Messaging)], e.Standby...)
		for i, m := range all {
			ev := MessengerEvent{PageID: e.ID, PSID: m.Sender.ID, Time: m.Timestamp.millis(), Standby: i >= len(e.Messaging)}
			if m.Recipient.ID != "" {
				ev.PageID = m.Recipient.ID
			}
			switch {
			case m.Message != nil:
				if m.Message.IsEcho || m.Message.MID == "" {
					continue
				}
				ev.Kind, ev.MID, ev.Text = EventMessage, m.Message.MID, m.Message.Text
				if m.Message.QuickReply != nil {
					ev.Payload = m.Message.QuickReply.Payload
				}
				for _, a := range m.Message.Attachments {
					ev.Attachments = append(ev.Attachments, Attachment{Type: a.Type, URL: a.Payload.URL})
				}
			case m.Postback != nil:
				ev.Kind, ev.MID, ev.Text, ev.Payload = EventPostback, m.Postback.MID, m.Postback.Title, m.Postback.Payload
				if ev.MID == "" { // older postbacks carry no mid: derive a stable one
					ev.MID = fmt.Sprintf("postback:%s:%d", m.Sender.ID, m.Timestamp)
				}
			case m.Delivery != nil:
				ev.Kind, ev.Mids, ev.Watermark = EventDelivery, m.Delivery.Mids, m.Delivery.Watermark.millis()
			case m.Read != nil:
				ev.Kind, ev.Watermark = EventRead, m.Read.Watermark.millis()
			default:
				continue
			}
			if ev.PageID == "" || ev.PSID == "" {
				continue
			}
			out = append(out, ev)
		}
	}
	return out, nil
}

// Body is the thread text of a message or postback event: its text, and a
// line per attachment ("[image] URL").
func (ev *MessengerEvent) Body() string {
	var b strings.Builder
	b.WriteString(ev.Text)
	for _, a := range ev.Attachments {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("[" + nonEmpty(a.Type, "attachment") + "]")
		if a.URL != "" {
			b.WriteString(" " + a.URL)
		}
	}
	if strings.TrimSpace(b.String()) == "" {
		return "[empty message]"
	}
	return b.String()
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// WhatsApp event kinds.
const (
	WAMessage = "message"
	WAStatus  = "status"
)

// WhatsAppEvent is one message or status of a WhatsApp webhook, flattened.
type WhatsAppEvent struct {
	Kind          string // WAMessage or WAStatus
	PhoneNumberID string // the business number's id
	WaID          string // the customer's WhatsApp id (phone digits)
	Name          string // the customer's profile name, if sent
	ID            string // wamid of the message (or of our message, for a status)
	Time          time.Time
	Type          string // message type: text, image, …
	Text          string // text body, caption, or the title of a button reply
	Media         *Media
	Status        string // sent, delivered, read, failed
	Error         string // a failed status's reason
}

// Media is a WhatsApp media message's reference (fetch it with the media
// id through the Graph API).
type Media struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Filename string `json:"filename,omitempty"`
}

type waWebhook struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string `json:"id"`
		Changes []struct {
			Field string  `json:"field"`
			Value waValue `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

type waMedia struct {
	Media
	Caption string `json:"caption"`
}

type waMessage struct {
	From      string   `json:"from"`
	ID        string   `json:"id"`
	Timestamp flexTime `json:"timestamp"`
	Type      string   `json:"type"`
	Text      *struct {
		Body string `json:"body"`
	} `json:"text"`
	Image    *waMedia `json:"image"`
	Video    *waMedia `json:"video"`
	Audio    *waMedia `json:"audio"`
	Document *waMedia `json:"document"`
	Sticker  *waMedia `json:"sticker"`
	Button   *struct {
		Text string `json:"text"`
	} `json:"button"`
	Interactive *struct {
		ButtonReply *struct {
			Title string `json:"title"`
		} `json:"button_reply"`
		ListReply *struct {
			Title string `json:"title"`
		} `json:"list_reply"`
	} `json:"interactive"`
	Location *struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		Name      string  `json:"name"`
	} `json:"location"`
}

type waValue struct {
	Metadata struct {
		PhoneNumberID string `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts []struct {
		Profile struct {
			Name string `json:"name"`
		} `json:"profile"`
		WaID string `json:"wa_id"`
	} `json:"contacts"`
	Messages []waMessage `json:"messages"`
	Statuses []struct {
		ID          string   `json:"id"`
		Status      string   `json:"status"`
		Timestamp   flexTime `json:"timestamp"`
		RecipientID string   `json:"recipient_id"`
		Errors      []struct {
			Code      int    `json:"code"`
			Title     string `json:"title"`
			Message   string `json:"message"`
			ErrorData struct {
				Details string `json:"details"`
			} `json:"error_data"`
		} `json:"errors"`
	} `json:"statuses"`
}

// ParseWhatsApp parses a WhatsApp Business Cloud API webhook body (object
// "whatsapp_business_account", field "messages"). Reactions and other
// kinds without a thread text are skipped, as are events without ids.
func ParseWhatsApp(body []byte) ([]WhatsAppEvent, error) {
	const op = "meta.ParseWhatsApp"
	var w waWebhook
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, sb.E(op, sb.Invalid, "bad_payload", "the body is not a WhatsApp webhook: %v", err)
	}
	if w.Object != "whatsapp_business_account" {
		return nil, sb.E(op, sb.Invalid, "bad_payload", "the webhook object is %q, want \"whatsapp_business_account\"", w.Object)
	}
	var out []WhatsAppEvent
	for _, e := range w.Entry {
		for _, ch := range e.Changes {
			if ch.Field != "messages" {
				continue
			}
			v := ch.Value
			pnid := v.Metadata.PhoneNumberID
			names := map[string]string{}
			for _, c := range v.Contacts {
				names[c.WaID] = c.Profile.Name
			}
			for _, m := range v.Messages {
				ev := waMessageEvent(pnid, names[m.From], m)
				if ev == nil || pnid == "" || ev.WaID == "" || ev.ID == "" {
					continue
				}
				out = append(out, *ev)
			}
			for _, s := range v.Statuses {
				ev := WhatsAppEvent{Kind: WAStatus, PhoneNumberID: pnid, WaID: s.RecipientID, ID: s.ID, Time: s.Timestamp.seconds(), Status: s.Status}
				for _, e := range s.Errors {
					reason := nonEmpty(e.ErrorData.Details, nonEmpty(e.Message, e.Title))
					ev.Error = strings.TrimSpace(fmt.Sprintf("%s (code %d)", reason, e.Code))
					break
				}
				if pnid == "" || ev.ID == "" || ev.Status == "" {
					continue
				}
				out = append(out, ev)
			}
		}
	}
	return out, nil
}

// Body is the thread text of a WhatsApp message: the text, or "[image]"
// and the caption for media.
func (ev *WhatsAppEvent) Body() string {
	text := ev.Text
	if ev.Media != nil || (ev.Type != "text" && ev.Type != "button" && ev.Type != "interactive" && ev.Type != "location") {
		tag := "[" + nonEmpty(ev.Type, "message") + "]"
		if text == "" {
			return tag
		}
		return tag + " " + text
	}
	if strings.TrimSpace(text) == "" {
		return "[empty message]"
	}
	return text
}

// waMessageEvent flattens one message; nil for kinds without a thread
// text (reactions).
func waMessageEvent(pnid, name string, m waMessage) *WhatsAppEvent {
	ev := &WhatsAppEvent{Kind: WAMessage, PhoneNumberID: pnid, WaID: m.From, Name: name, ID: m.ID, Time: m.Timestamp.seconds(), Type: m.Type}
	var media *waMedia
	switch m.Type {
	case "text":
		if m.Text != nil {
			ev.Text = m.Text.Body
		}
	case "image":
		media = m.Image
	case "video":
		media = m.Video
	case "audio":
		media = m.Audio
	case "document":
		media = m.Document
	case "sticker":
		media = m.Sticker
	case "button":
		if m.Button != nil {
			ev.Text = m.Button.Text
		}
	case "interactive":
		if i := m.Interactive; i != nil && i.ButtonReply != nil {
			ev.Text = i.ButtonReply.Title
		} else if i != nil && i.ListReply != nil {
			ev.Text = i.ListReply.Title
		}
	case "location":
		if l := m.Location; l != nil {
			ev.Text = strings.TrimSpace(fmt.Sprintf("%s https://maps.google.com/?q=%f,%f", l.Name, l.Latitude, l.Longitude))
		}
	case "reaction":
		return nil
	}
	if media != nil {
		md := media.Media
		ev.Media, ev.Text = &md, media.Caption
	}
	return ev
}
