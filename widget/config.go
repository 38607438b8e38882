package widget

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
)

// Config is a chat channel's config (sb.Channel.Config) as the widget reads
// it. Every field is optional; docs/chat.md describes them. The chatflow
// ("chatflow") lives in the same object and is app's (app.Chatflow).
type Config struct {
	// Color is the launcher's and header's colour, #rgb or #rrggbb (R-C1).
	Color string `json:"color,omitempty"`
	// Position is the launcher's corner: right (default) or left.
	Position string `json:"position,omitempty"`
	// Heading is who the chat window says the visitor talks to (R-C1).
	Heading Heading `json:"heading,omitzero"`
	// CompanyName names the company in the heading; default the account's name.
	CompanyName string `json:"company_name,omitempty"`
	// WelcomeMessage is shown first in the chat window.
	WelcomeMessage string `json:"welcome_message,omitempty"`
	// PopOpen opens the welcome message by itself after PopOpenDelay seconds.
	PopOpen      bool `json:"pop_open,omitempty"`
	PopOpenDelay int  `json:"pop_open_delay,omitempty"`
	// AllowedOrigins are the origins (scheme://host[:port]) of the sites
	// allowed to embed the widget; "*" allows any. Empty allows none but
	// the server's own origin.
	AllowedOrigins []string `json:"allowed_origins,omitempty"`
	// Availability says when the channel is available and what the widget
	// shows otherwise (R-V4, R-V5).
	Availability Availability `json:"availability,omitzero"`
	// WaitingMessage is shown when every candidate is at capacity and the
	// routing rule's at_capacity is waiting_message (R-A10).
	WaitingMessage string `json:"waiting_message,omitempty"`
	// Transcripts emails the visitor the chat when it closes (R-C4).
	Transcripts Transcripts `json:"transcripts,omitzero"`
}

// Heading modes.
const (
	HeadingCompany = "company" // the company's name (default)
	HeadingUser    = "user"    // a fixed user's name
	HeadingOwner   = "owner"   // the visitor's contact owner, else the fallback user, else the company
)

// Heading configures the chat window's heading.
type Heading struct {
	Mode string `json:"mode,omitempty"`
	// UserID is the fixed user (mode user) or the owner's fallback (mode owner).
	UserID string `json:"user_id,omitempty"`
}

// Availability modes (R-V4).
const (
	ModeUsers  = "users"  // available when a candidate of the routing rule is (default)
	ModeHours  = "hours"  // operating hours in the account's time zone
	ModeAlways = "always" // 24/7
)

// What the widget shows outside operating hours (R-V5).
const (
	OutsideReturnTime  = "return_time"  // "back at 09:00 Monday" (default)
	OutsideAwayMessage = "away_message" // the away message
	OutsideHide        = "hide"         // no launcher
)

// Availability configures R-V4 and R-V5.
type Availability struct {
	Mode string `json:"mode,omitempty"`
	// Hours are the weekly operating hours, in the account's time zone.
	Hours []sb.HoursRange `json:"hours,omitempty"`
	// ReplyTime is the typical reply time shown while available, e.g.
	// "a few minutes".
	ReplyTime string `json:"reply_time,omitempty"`
	// AwayMessage is shown while away (in hours, nobody free).
	AwayMessage string `json:"away_message,omitempty"`
	// OutsideHours is return_time, away_message or hide.
	OutsideHours string `json:"outside_hours,omitempty"`
}

// Transcripts configures R-C4.
type Transcripts struct {
	Enabled bool `json:"enabled,omitempty"`
	// FromChannelID is the email channel whose address (and relay) sends
	// the transcript; empty means the account's default sender.
	FromChannelID string `json:"from_channel_id,omitempty"`
	// Subject of the mail; default "Your chat with <company>".
	Subject string `json:"subject,omitempty"`
}

// Defaults shown when the config leaves a text out.
const (
	DefaultColor          = "#2563eb"
	DefaultReplyTime      = "a few minutes"
	DefaultAwayMessage    = "We're away right now. Leave a message and we'll get back to you."
	DefaultWaitingMessage = "All of our team is busy right now. You're in the queue: the first one free will answer you."
)

var colorRE = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// ParseConfig reads a chat channel's config, filling in defaults. An
// invalid config is an sb.Invalid error naming the field.
func ParseConfig(raw json.RawMessage) (*Config, error) {
	const op = "widget.ParseConfig"
	c := &Config{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, c); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) && te.Field != "" {
				return nil, invalidAt(op, "config."+te.Field, "config.%s has the wrong type: %s is not allowed there", te.Field, te.Value)
			}
			return nil, sb.Invalidf(op, "config", "config must be a JSON object")
		}
	}
	if err := c.check(op); err != nil {
		return nil, err
	}
	return c, nil
}

// CheckConfig is the config check of chat channels (app.ChannelKindHooks): ParseConfig's
// verdict.
func CheckConfig(raw json.RawMessage) error {
	_, err := ParseConfig(raw)
	return err
}

// check validates c and fills in defaults.
func (c *Config) check(op string) error {
	if c.Color == "" {
		c.Color = DefaultColor
	}
	if !colorRE.MatchString(c.Color) {
		return sb.Invalidf(op, "config.color", "config.color must be a colour like #2563eb")
	}
	switch c.Position {
	case "":
		c.Position = "right"
	case "right", "left":
	default:
		return sb.Invalidf(op, "config.position", "config.position must be right or left")
	}
	switch c.Heading.Mode {
	case "":
		c.Heading.Mode = HeadingCompany
	case HeadingCompany, HeadingOwner:
	case HeadingUser:
		if c.Heading.UserID == "" {
			return sb.Invalidf(op, "config.heading.user_id", "a heading of mode user needs config.heading.user_id")
		}
	default:
		return sb.Invalidf(op, "config.heading.mode", "config.heading.mode must be company, user or owner")
	}
	for field, text := range map[string]string{"company_name": c.CompanyName, "welcome_message": c.WelcomeMessage, "waiting_message": c.WaitingMessage,
		"availability.reply_time": c.Availability.ReplyTime, "availability.away_message": c.Availability.AwayMessage, "transcripts.subject": c.Transcripts.Subject} {
		if len(text) > 1000 {
			return sb.Invalidf(op, "config."+field, "config.%s is longer than 1000 characters", field)
		}
	}
	if c.PopOpenDelay < 0 || c.PopOpenDelay > 3600 {
		return sb.Invalidf(op, "config.pop_open_delay", "config.pop_open_delay is seconds between 0 and 3600")
	}
	for i, o := range c.AllowedOrigins {
		if o == "*" {
			continue
		}
		norm, err := normOrigin(o)
		if err != nil {
			return invalidAt(op, fmt.Sprintf("config.allowed_origins[%d]", i), "config.allowed_origins[%d] %q must be an origin like https://www.example.com", i, o)
		}
		c.AllowedOrigins[i] = norm
	}
	return c.Availability.check(op)
}

func (a *Availability) check(op string) error {
	switch a.Mode {
	case "":
		a.Mode = ModeUsers
	case ModeUsers, ModeAlways:
	case ModeHours:
		if len(a.Hours) == 0 {
			return sb.Invalidf(op, "config.availability.hours", "availability mode hours needs at least one range in config.availability.hours")
		}
	default:
		return sb.Invalidf(op, "config.availability.mode", "config.availability.mode must be users, hours or always")
	}
	for i, r := range a.Hours {
		if r.Day < 0 || r.Day > 6 || r.Start < 0 || r.Start >= 1440 || r.End <= 0 || r.End > 1440 || r.Start == r.End {
			return invalidAt(op, fmt.Sprintf("config.availability.hours[%d]", i),
				"config.availability.hours[%d] needs day 0-6 (0 = Sunday) and start/end in minutes after midnight (0-1440, different; end before start runs overnight)", i)
		}
	}
	switch a.OutsideHours {
	case "":
		a.OutsideHours = OutsideReturnTime
	case OutsideReturnTime, OutsideAwayMessage, OutsideHide:
	default:
		return sb.Invalidf(op, "config.availability.outside_hours", "config.availability.outside_hours must be return_time, away_message or hide")
	}
	if a.ReplyTime == "" {
		a.ReplyTime = DefaultReplyTime
	}
	if a.AwayMessage == "" {
		a.AwayMessage = DefaultAwayMessage
	}
	return nil
}

// normOrigin returns o as a browser sends it in Origin: scheme://host[:port],
// lower-case, no path.
func normOrigin(o string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", errors.New("not an origin")
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// allows reports whether a browser page of origin may embed the widget.
func (c *Config) allows(origin string) bool {
	o, err := normOrigin(origin)
	if err != nil {
		return false
	}
	for _, a := range c.AllowedOrigins {
		if a == "*" || a == o {
			return true
		}
	}
	return false
}

// invalidAt is sb.Invalidf for a field with list indexes ("x.steps[2].text"):
// the code leaves the indexes out, as codes are snake_case words.
func invalidAt(op, field, format string, args ...any) *sb.Error {
	e := sb.Invalidf(op, field, format, args...)
	e.Code = "invalid_" + indexRE.ReplaceAllString(field, "")
	return e
}

var indexRE = regexp.MustCompile(`\[\d+\]`)
