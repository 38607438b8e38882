package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultGraphURL is the Graph API base URL used unless configured.
const DefaultGraphURL = "https://graph.facebook.com/v21.0"

// Graph is a small client of Meta's Graph API: the Messenger Send API,
// the Messenger Profile API, user profiles, and the WhatsApp Cloud API's
// messages endpoint. Its base URL is configurable so that tests (and
// proxies) can stand in for graph.facebook.com.
type Graph struct {
	BaseURL string
	HTTP    *http.Client
}

// GraphError is an error answer of the Graph API.
type GraphError struct {
	Status  int    // HTTP status
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    int    `json:"code"`
	Subcode int    `json:"error_subcode"`
}

func (e *GraphError) Error() string {
	return fmt.Sprintf("graph API: HTTP %d: %s (code %d, subcode %d)", e.Status, e.Message, e.Code, e.Subcode)
}

// Temporary reports whether sending again later may succeed: server
// errors, throttling, and the codes Meta documents as transient.
func (e *GraphError) Temporary() bool {
	if e.Status >= 500 || e.Status == http.StatusTooManyRequests {
		return true
	}
	switch e.Code {
	case 1, 2, 4, 17, 32, 341, 613, 80006, 131000, 131016, 130429:
		return true
	}
	return false
}

// Permanent reports whether err is a Graph API answer that sending again
// cannot fix (bad token, outside the window, blocked user …).
func Permanent(err error) bool {
	var ge *GraphError
	return errors.As(err, &ge) && !ge.Temporary()
}

// call sends method path with token and a JSON body (nil for none) and
// decodes the answer into out.
func (g *Graph) call(ctx context.Context, method, path, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(g.BaseURL, "/")+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	client := g.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// The URL carries no token (it is in the header), so the error may be logged.
		return fmt.Errorf("graph API: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("graph API: reading the answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var eb struct {
			Error GraphError `json:"error"`
		}
		_ = json.Unmarshal(raw, &eb)
		ge := eb.Error
		ge.Status = resp.StatusCode
		if ge.Message == "" {
			ge.Message = http.StatusText(resp.StatusCode)
		}
		return &ge
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("graph API: %s %s: the answer is not JSON: %w", method, path, err)
	}
	return nil
}

// Messenger messaging types and the human agent tag (R-F3).
const (
	TypeResponse   = "RESPONSE"
	TypeMessageTag = "MESSAGE_TAG"
	TagHumanAgent  = "HUMAN_AGENT"
)

// SendRequest is the Send API's body.
type SendRequest struct {
	Recipient struct {
		ID string `json:"id"`
	} `json:"recipient"`
	MessagingType string      `json:"messaging_type"`
	Tag           string      `json:"tag,omitempty"`
	Message       SendMessage `json:"message"`
}

// SendMessage is the message of a SendRequest.
type SendMessage struct {
	Text         string       `json:"text"`
	QuickReplies []QuickReply `json:"quick_replies,omitempty"`
}

// QuickReply is a button under a Messenger message.
type QuickReply struct {
	ContentType string `json:"content_type"`
	Title       string `json:"title"`
	Payload     string `json:"payload"`
}

// SendMessenger posts a message to /me/messages with the page's token and
// returns the message id Messenger assigned.
func (g *Graph) SendMessenger(ctx context.Context, pageToken string, r *SendRequest) (string, error) {
	var out struct {
		RecipientID string `json:"recipient_id"`
		MessageID   string `json:"message_id"`
	}
	if err := g.call(ctx, http.MethodPost, "/me/messages", pageToken, r, &out); err != nil {
		return "", err
	}
	if out.MessageID == "" {
		return "", errors.New("graph API: the Send API answered without a message_id")
	}
	return out.MessageID, nil
}

// SetGreeting sets the page's Messenger greeting (shown before a person
// writes for the first time) through the Messenger Profile API.
func (g *Graph) SetGreeting(ctx context.Context, pageToken, text string) error {
	body := map[string]any{"greeting": []map[string]string{{"locale": "default", "text": text}}}
	return g.call(ctx, http.MethodPost, "/me/messenger_profile", pageToken, body, nil)
}

// Profile is what Messenger tells about a person: a name, never an email.
type Profile struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

// MessengerProfile looks up a person's name by their page-scoped id.
func (g *Graph) MessengerProfile(ctx context.Context, pageToken, psid string) (*Profile, error) {
	var p Profile
	path := "/" + url.PathEscape(psid) + "?fields=first_name,last_name"
	if err := g.call(ctx, http.MethodGet, path, pageToken, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// SendWhatsAppText sends a text message from the business number to a
// WhatsApp user and returns its wamid.
func (g *Graph) SendWhatsAppText(ctx context.Context, token, phoneNumberID, to, text string) (string, error) {
	body := map[string]any{
		"messaging_product": "whatsapp",
		"recipient_type":    "individual",
		"to":                to,
		"type":              "text",
		"text":              map[string]any{"preview_url": false, "body": text},
	}
	var out struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if err := g.call(ctx, http.MethodPost, "/"+url.PathEscape(phoneNumberID)+"/messages", token, body, &out); err != nil {
		return "", err
	}
	if len(out.Messages) == 0 || out.Messages[0].ID == "" {
		return "", errors.New("graph API: the WhatsApp messages endpoint answered without a message id")
	}
	return out.Messages[0].ID, nil
}
