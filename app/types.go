package app

import (
	"encoding/json"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// Actor is the authenticated caller of a use case.
type Actor struct {
	AccountID          string
	UserID             string
	Role               sb.Role
	ManageAvailability bool
}

// IsAdmin reports whether the actor has the account-access permission.
func (a Actor) IsAdmin() bool { return a.Role == sb.RoleAdmin }

// IsIntegration reports whether the actor is an integration token.
func (a Actor) IsIntegration() bool { return a.Role == sb.RoleIntegration }

// SetupInput creates the first account and its admin.
type SetupInput struct {
	AccountName string `json:"account_name"`
	TimeZone    string `json:"time_zone"`
	AdminEmail  string `json:"admin_email"`
	AdminName   string `json:"admin_name"`
	Password    string `json:"password"`
}

// SetupResult is what Setup created.
type SetupResult struct {
	Account *sb.Account `json:"account"`
	User    *sb.User    `json:"user"`
	Token   string      `json:"token"`
}

// LoginInput exchanges credentials for a token.
type LoginInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// UserInput creates a user.
type UserInput struct {
	Email              string           `json:"email"`
	Name               string           `json:"name"`
	Role               sb.Role          `json:"role"`
	PaidSeat           bool             `json:"paid_seat"`
	ChatCapacity       int              `json:"chat_capacity"`
	Password           string           `json:"password"`
	ManageAvailability bool             `json:"manage_availability"`
	WorkingHours       *sb.WorkingHours `json:"working_hours,omitempty"`
	OutOfOffice        []sb.DateRange   `json:"out_of_office,omitempty"`
}

// UserPatch changes the fields that are set.
type UserPatch struct {
	Email              *string          `json:"email,omitempty"`
	Name               *string          `json:"name,omitempty"`
	Role               *sb.Role         `json:"role,omitempty"`
	PaidSeat           *bool            `json:"paid_seat,omitempty"`
	ChatCapacity       *int             `json:"chat_capacity,omitempty"`
	Password           *string          `json:"password,omitempty"`
	ManageAvailability *bool            `json:"manage_availability,omitempty"`
	WorkingHours       *sb.WorkingHours `json:"working_hours,omitempty"`
	OutOfOffice        *[]sb.DateRange  `json:"out_of_office,omitempty"`
}

// StatusInput is a user's availability toggle (R-V1, R-V3).
type StatusInput struct {
	Status          sb.Status `json:"status"`
	ReassignReplies *bool     `json:"reassign_replies,omitempty"`
}

// UserView is a user as the API shows it: the stored user plus the
// effective status and its reason (R-X1).
type UserView struct {
	*sb.User
	EffectiveStatus sb.Status       `json:"effective_status"`
	StatusReason    sb.StatusReason `json:"status_reason"`
}

// TeamInput creates or replaces a team.
type TeamInput struct {
	Name           string   `json:"name"`
	MainMemberIDs  []string `json:"main_member_ids"`
	ExtraMemberIDs []string `json:"extra_member_ids"`
}

// TeamPatch changes the fields that are set.
type TeamPatch struct {
	Name           *string   `json:"name,omitempty"`
	MainMemberIDs  *[]string `json:"main_member_ids,omitempty"`
	ExtraMemberIDs *[]string `json:"extra_member_ids,omitempty"`
}

// InboxInput creates an inbox.
type InboxInput struct {
	Name    string   `json:"name"`
	TeamIDs []string `json:"team_ids"`
}

// InboxPatch changes the fields that are set.
type InboxPatch struct {
	Name    *string   `json:"name,omitempty"`
	TeamIDs *[]string `json:"team_ids,omitempty"`
}

// ChannelInput connects a channel to an inbox (R-I1, R-I3).
type ChannelInput struct {
	Kind    sb.ChannelKind     `json:"kind"`
	Name    string             `json:"name"`
	Config  json.RawMessage    `json:"config,omitempty"`
	Routing *sb.RoutingRule    `json:"routing,omitempty"`
	Tickets *sb.TicketSettings `json:"tickets,omitempty"`
	// NewInbox creates the inbox together with the channel (R-I1), for
	// POST /api/v1/channels; the inbox-scoped endpoint leaves it nil.
	NewInbox *InboxInput `json:"new_inbox,omitempty"`
}

// ChannelPatch changes the fields that are set.
type ChannelPatch struct {
	Name    *string            `json:"name,omitempty"`
	Config  json.RawMessage    `json:"config,omitempty"`
	Routing *sb.RoutingRule    `json:"routing,omitempty"`
	Tickets *sb.TicketSettings `json:"tickets,omitempty"`
}

// ChannelView is a channel as the API shows it, with warnings about its
// routing rule (R-A2: a named user who has lost their seat).
type ChannelView struct {
	*sb.Channel
	RoutingWarnings []string `json:"routing_warnings"`
}

// ContactInput creates a contact.
type ContactInput struct {
	Email        string `json:"email"`
	Name         string `json:"name"`
	Phone        string `json:"phone"`
	OwnerID      string `json:"owner_id"`
	VisitorToken string `json:"visitor_token"`
}

// ContactPatch changes the fields that are set.
type ContactPatch struct {
	Email        *string `json:"email,omitempty"`
	Name         *string `json:"name,omitempty"`
	Phone        *string `json:"phone,omitempty"`
	OwnerID      *string `json:"owner_id,omitempty"`
	VisitorToken *string `json:"visitor_token,omitempty"`
}

// Views of the conversation list (R-M5).
const (
	ViewUnassigned = "unassigned"
	ViewMine       = "mine"
	ViewOpen       = "open"
	ViewClosed     = "closed"
)

// ListQuery selects a page of conversations.
type ListQuery struct {
	View    string
	InboxID string
	TeamID  string
	Cursor  string
	Limit   int
}

// Page is one page of a list; NextCursor is empty on the last page.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// ReplyInput is a reply to the contact or an internal note.
type ReplyInput struct {
	Body     string `json:"body"`
	Internal bool   `json:"internal"`
}

// ReplyResult is the stored message and the conversation after it (which
// R-M3 may have assigned).
type ReplyResult struct {
	Message      *sb.Message      `json:"message"`
	Conversation *sb.Conversation `json:"conversation"`
}

// AssignInput is a manual (re)assignment. UserID "me" means the caller.
// Both absent or UserID JSON null means unassign.
type AssignInput struct {
	UserID *string `json:"user_id"`
	TeamID *string `json:"team_id,omitempty"`
}

// InboundContact identifies the sender of an inbound message.
type InboundContact struct {
	Email        string `json:"email"`
	Name         string `json:"name"`
	Phone        string `json:"phone"`
	VisitorToken string `json:"visitor_token"`
}

// InboundInput is a message from a contact on any channel.
type InboundInput struct {
	Contact    InboundContact `json:"contact"`
	Body       string         `json:"body"`
	ExternalID string         `json:"external_id"`
	Subject    string         `json:"subject,omitempty"`
	// Meta is the channel's own data about the message (email headers and
	// attachments, form hidden fields, call details), stored with it.
	Meta json.RawMessage `json:"meta,omitempty"`

	// For channel adapters, not the JSON API:
	// ConversationID continues this conversation of the same channel
	// (email threading found it); a closed one is reopened and routed as
	// a returning contact (R-X4). Unknown, or of another channel: the
	// message starts a new conversation.
	ConversationID string `json:"-"`
	// NewThread starts a new conversation even if the contact has an open
	// one on the channel (an email that is no reply to anything known).
	NewThread bool `json:"-"`
	// AutoReply marks a message no person wrote (an email's Auto-Submitted
	// header: an out-of-office answer, a delivery report). In a closed
	// conversation it is stored without reopening it: nobody asked
	// anything. Elsewhere it lands like any message.
	AutoReply bool `json:"-"`
}

// InboundResult is where an inbound message landed. Duplicate is true when
// the external id had been seen before and nothing new was stored.
type InboundResult struct {
	Conversation *sb.Conversation `json:"conversation"`
	Message      *sb.Message      `json:"message"`
	Decision     *sb.Decision     `json:"decision,omitempty"`
	Duplicate    bool             `json:"duplicate"`
}

// Metrics receives the app's measurements; cmd wires it to Prometheus.
type Metrics interface {
	// Routed counts one routing decision by outcome and its latency from
	// arrival to commit.
	Routed(outcome string, latency time.Duration)
	// Batch observes how many arrivals one routing transaction took and
	// where its time went.
	Batch(size int, t BatchTimes)
}

// BatchTimes splits one routing transaction's wall time into its phases,
// in order: the account's lock (begin and version bump), the roster
// snapshot (cached or read), the prefetch lookups, routing in memory, the
// bulk writes, and the commit (notify included).
type BatchTimes struct {
	Lock, Snapshot, Prefetch, Route, Write, Commit time.Duration
}

type noMetrics struct{}

func (noMetrics) Routed(string, time.Duration) {}
func (noMetrics) Batch(int, BatchTimes)        {}
