package meta

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	sb "github.com/switchboard-dev/switchboard"
)

// Consent modes of a Messenger channel (R-F2).
const (
	ConsentNone     = "none"
	ConsentImplicit = "implicit" // the consent text is shown; writing means accepting
	ConsentExplicit = "explicit" // messages are held until the person accepts
)

// MessengerConfig is a Messenger channel's config. Secrets (the page
// access token, an app secret) are write-only: the API never returns them.
type MessengerConfig struct {
	PageID          string `json:"page_id"`
	PageAccessToken string `json:"page_access_token"`
	// AppSecret verifies the page's webhook signatures when the app is not
	// the installation's (--meta-app-secret).
	AppSecret string `json:"app_secret"`
	// VerifyToken answers the handshake on the channel's own webhook URL
	// (/webhooks/messenger/{channel_id}).
	VerifyToken  string `json:"verify_token"`
	Greeting     string `json:"greeting"`      // shown before a person first writes (Messenger profile)
	InstantReply string `json:"instant_reply"` // sent automatically when a conversation starts
	Consent      string `json:"consent"`       // none (default), implicit or explicit
	ConsentText  string `json:"consent_text"`
	// LookupProfile fetches the person's first and last name from the
	// Graph API for new contacts (default true).
	LookupProfile *bool `json:"lookup_profile,omitempty"`
}

// WhatsAppConfig is a WhatsApp channel's config.
type WhatsAppConfig struct {
	PhoneNumberID string `json:"phone_number_id"`
	AccessToken   string `json:"access_token"`
	AppSecret     string `json:"app_secret"`
	VerifyToken   string `json:"verify_token"`
}

// Default texts.
const (
	defaultConsentText = "Before we can answer, we need your permission to store your messages and your Messenger name to handle your request. Do you accept?"
	// ConsentAccept and ConsentDecline are the quick-reply payloads of the
	// explicit consent prompt.
	ConsentAccept  = "SWITCHBOARD_CONSENT_ACCEPT"
	ConsentDecline = "SWITCHBOARD_CONSENT_DECLINE"
)

// Keys claimed in the installation (R-F1).
func pageKey(pageID string) string   { return "messenger:page:" + pageID }
func phoneKey(phoneID string) string { return "whatsapp:phone:" + phoneID }

func parseMessenger(raw json.RawMessage) (*MessengerConfig, error) {
	var c MessengerConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, sb.Invalidf("meta.MessengerConfig", "config", "the Messenger config is not valid: %v", err)
	}
	return &c, nil
}

func parseWhatsApp(raw json.RawMessage) (*WhatsAppConfig, error) {
	var c WhatsAppConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, sb.Invalidf("meta.WhatsAppConfig", "config", "the WhatsApp config is not valid: %v", err)
	}
	return &c, nil
}

func digitsOnly(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// checkMessenger is the Messenger kind's config check: page_id is
// required and claimed in the whole installation (R-F1).
func checkMessenger(ch *sb.Channel) ([]string, error) {
	const op = "meta.CheckMessenger"
	c, err := parseMessenger(ch.Config)
	if err != nil {
		return nil, err
	}
	if c.PageID != "" && !digitsOnly(c.PageID) {
		return nil, sb.Invalidf(op, "config.page_id", "config.page_id must be the Facebook page's numeric id")
	}
	switch c.Consent {
	case "", ConsentNone, ConsentImplicit, ConsentExplicit:
	default:
		return nil, sb.Invalidf(op, "config.consent", "config.consent must be none, implicit or explicit")
	}
	if c.Consent == ConsentExplicit && c.PageAccessToken == "" {
		return nil, sb.Invalidf(op, "config.page_access_token", "explicit consent needs the page access token, to ask people for their consent")
	}
	if c.Consent == ConsentImplicit && strings.TrimSpace(c.ConsentText) == "" {
		return nil, sb.Invalidf(op, "config.consent_text", "implicit consent needs the text to show (config.consent_text)")
	}
	if utf8.RuneCountInString(c.Greeting) > 160 {
		return nil, sb.Invalidf(op, "config.greeting", "Messenger greetings are at most 160 characters")
	}
	if utf8.RuneCountInString(c.InstantReply) > 2000 || utf8.RuneCountInString(c.ConsentText) > 2000 {
		return nil, sb.Invalidf(op, "config.instant_reply", "Messenger messages are at most 2000 characters")
	}
	if c.PageID == "" {
		return nil, nil // not connected to a page yet: only the inbound API reaches it
	}
	return []string{pageKey(c.PageID)}, nil
}

// checkWhatsApp is the WhatsApp kind's config check: phone_number_id is
// required and claimed in the whole installation.
func checkWhatsApp(ch *sb.Channel) ([]string, error) {
	const op = "meta.CheckWhatsApp"
	c, err := parseWhatsApp(ch.Config)
	if err != nil {
		return nil, err
	}
	if c.PhoneNumberID == "" {
		return nil, nil
	}
	if !digitsOnly(c.PhoneNumberID) {
		return nil, sb.Invalidf(op, "config.phone_number_id", "config.phone_number_id must be the WhatsApp business number's numeric id (not the phone number)")
	}
	return []string{phoneKey(c.PhoneNumberID)}, nil
}
