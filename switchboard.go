// Package switchboard holds Switchboard's domain: the types every part
// shares, the Store and Bus interfaces the adapters implement, and the one
// error type. It imports no adapter; adapters import it.
package switchboard

import (
	"encoding/json"
	"time"
)

// Role is what a user may do in their account.
type Role string

// The roles. Admins configure; agents work conversations.
const (
	RoleAdmin Role = "admin"
	RoleAgent Role = "agent"
	// RoleIntegration is never stored on a user: it is the role of a
	// request made with an integration token.
	RoleIntegration Role = "integration"
)

// Status is a user's availability as they (or an admin) set it (R-V1).
type Status string

// The statuses.
const (
	Available Status = "available"
	Away      Status = "away"
)

// StatusReason says why a user's effective status is what it is (R-X1).
type StatusReason string

// The reasons for an effective status.
const (
	ReasonManual       StatusReason = "manual"        // the user's own toggle
	ReasonSetByAdmin   StatusReason = "set_by_admin"  // someone with the availability permission set it
	ReasonWorkingHours StatusReason = "working_hours" // outside the user's working hours
	ReasonOutOfOffice  StatusReason = "out_of_office" // inside an out-of-office range
)

// ChannelKind is the kind of a channel (R-I2).
type ChannelKind string

// The channel kinds.
const (
	KindEmail     ChannelKind = "email"
	KindChat      ChannelKind = "chat"
	KindMessenger ChannelKind = "messenger"
	KindWhatsApp  ChannelKind = "whatsapp"
	KindForm      ChannelKind = "form"
	KindCalling   ChannelKind = "calling"
)

// Valid reports whether k is a known channel kind.
func (k ChannelKind) Valid() bool {
	switch k {
	case KindEmail, KindChat, KindMessenger, KindWhatsApp, KindForm, KindCalling:
		return true
	}
	return false
}

// ChatLike reports whether conversations of this kind are routed least-busy
// and count towards a user's load and capacity (R-A6, R-A9, R-A10).
func (k ChannelKind) ChatLike() bool {
	switch k {
	case KindChat, KindMessenger, KindWhatsApp, KindCalling:
		return true
	}
	return false
}

// Account is one organisation: the tenant every other row belongs to.
type Account struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	TimeZone  string    `json:"time_zone"`
	CreatedAt time.Time `json:"created_at"`
}

// Weekday ranges of working or operating hours, in minutes after midnight.
type HoursRange struct {
	Day   time.Weekday `json:"day"`   // 0 = Sunday
	Start int          `json:"start"` // minutes after midnight, inclusive
	End   int          `json:"end"`   // minutes after midnight, exclusive; 1440 = end of day
}

// WorkingHours are a user's weekly hours in their own time zone (R-X1).
// An empty Ranges means no working-hours limit.
type WorkingHours struct {
	TimeZone string       `json:"time_zone"`
	Ranges   []HoursRange `json:"ranges"`
}

// DateRange is a half-open interval [From, To) of absolute time.
type DateRange struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// User is an agent or admin of an account.
type User struct {
	ID        string `json:"id"`
	AccountID string `json:"account_id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	Role      Role   `json:"role"`
	PaidSeat  bool   `json:"paid_seat"`
	// ChatCapacity is the most open chat-like conversations the user may
	// have at once (R-A10); 0 means no limit.
	ChatCapacity int `json:"chat_capacity"`
	// ManageAvailability lets the user set other users away (R-V1).
	ManageAvailability bool         `json:"manage_availability"`
	Status             Status       `json:"status"`
	StatusSetBy        string       `json:"status_set_by,omitempty"` // user id of whoever set Status, if not the user
	ReassignReplies    bool         `json:"reassign_replies"`
	WorkingHours       WorkingHours `json:"working_hours"`
	OutOfOffice        []DateRange  `json:"out_of_office"`
	PasswordHash       string       `json:"-"`
	CreatedAt          time.Time    `json:"created_at"`

	// Load, kept by the app in the same transaction as every change of
	// assignment or status. Read-only through the API.
	OpenChats          int       `json:"open_chats"`
	LastActiveAt       time.Time `json:"last_active_at"`
	LastChatAssignedAt time.Time `json:"last_chat_assigned_at"`
}

// Team groups users. Routing to a team reaches its main members only (R-A5);
// inbox access reaches main and extra members (R-I4).
type Team struct {
	ID             string    `json:"id"`
	AccountID      string    `json:"account_id"`
	Name           string    `json:"name"`
	MainMemberIDs  []string  `json:"main_member_ids"`
	ExtraMemberIDs []string  `json:"extra_member_ids"`
	CreatedAt      time.Time `json:"created_at"`
}

// Inbox collects the conversations of its channels (R-I1, R-I2). An empty
// TeamIDs means the whole account has access (R-I4).
type Inbox struct {
	ID        string    `json:"id"`
	AccountID string    `json:"account_id"`
	Name      string    `json:"name"`
	TeamIDs   []string  `json:"team_ids"`
	CreatedAt time.Time `json:"created_at"`
}

// Routing modes of a channel's rule.
const (
	ModeSpecific     = "specific"
	ModeContactOwner = "contact_owner"
	ModeUnassigned   = "unassigned"
)

// Fallback modes for contact-owner routing (R-A8).
const (
	FallbackUser     = "user"
	FallbackSpecific = "specific"
	FallbackNone     = "none"
)

// At-capacity behaviours of a chat channel (R-A10).
const (
	AtCapacityWaitingMessage = "waiting_message"
	AtCapacityHideLauncher   = "hide_launcher"
	AtCapacityNothing        = "none"
)

// Fallback is what contact-owner routing does when the contact has no
// owner, is new, or the owner cannot take it (R-A8).
type Fallback struct {
	Mode    string   `json:"mode"`
	UserID  string   `json:"user_id,omitempty"`
	UserIDs []string `json:"user_ids"`
	TeamIDs []string `json:"team_ids"`
}

// RoutingRule is a channel's automatic assignment setting (R-A1 … R-A10).
type RoutingRule struct {
	Enabled bool     `json:"enabled"`
	Mode    string   `json:"mode"`
	UserIDs []string `json:"user_ids"`
	TeamIDs []string `json:"team_ids"`
	// OnlyAvailable is R-A7; nil means the default, true.
	OnlyAvailable *bool    `json:"only_available,omitempty"`
	Fallback      Fallback `json:"fallback"`
	// AtCapacity is the chat channel's behaviour when every candidate is at
	// capacity (R-A10): waiting_message, hide_launcher or none.
	AtCapacity string `json:"at_capacity,omitempty"`
	// ReplyTimerMinutes is R-X3: if the assignee of a routed conversation
	// has not replied within this many minutes, it is routed again to the
	// next candidate (excluding those already tried), then left
	// unassigned with a notification to the team. 0 means off.
	ReplyTimerMinutes int `json:"reply_timer_minutes,omitempty"`
}

// AvailableOnly returns R-A7's switch, defaulting to true.
func (r RoutingRule) AvailableOnly() bool { return r.OnlyAvailable == nil || *r.OnlyAvailable }

// TicketSettings is a channel's "treat incoming conversations as tickets" (R-T1).
type TicketSettings struct {
	Enabled  bool   `json:"enabled"`
	Pipeline string `json:"pipeline,omitempty"`
	Stage    string `json:"stage,omitempty"`
}

// Channel is one way in for contacts, connected to exactly one inbox (R-I1).
// Config holds the kind-specific settings (an email address, widget colours,
// a page id …) as JSON.
type Channel struct {
	ID        string          `json:"id"`
	AccountID string          `json:"account_id"`
	InboxID   string          `json:"inbox_id"`
	Kind      ChannelKind     `json:"kind"`
	Name      string          `json:"name"`
	Config    json.RawMessage `json:"config"`
	Routing   RoutingRule     `json:"routing"`
	Tickets   TicketSettings  `json:"tickets"`
	CreatedAt time.Time       `json:"created_at"`
}

// Contact is a person who writes in.
type Contact struct {
	ID           string    `json:"id"`
	AccountID    string    `json:"account_id"`
	Email        string    `json:"email,omitempty"`
	Name         string    `json:"name,omitempty"`
	Phone        string    `json:"phone,omitempty"`
	OwnerID      string    `json:"owner_id,omitempty"`
	VisitorToken string    `json:"visitor_token,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// Conversation statuses.
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// Conversation is a thread of messages with one contact on one channel.
type Conversation struct {
	ID          string      `json:"id"`
	AccountID   string      `json:"account_id"`
	InboxID     string      `json:"inbox_id"`
	ChannelID   string      `json:"channel_id"`
	ChannelKind ChannelKind `json:"channel_kind"`
	ContactID   string      `json:"contact_id"`
	Status      string      `json:"status"`
	AssigneeID  string      `json:"assignee_id,omitempty"`
	TeamID      string      `json:"team_id,omitempty"`
	TicketID    string      `json:"ticket_id,omitempty"`
	// Waiting is true while an unassigned conversation waits for a candidate
	// to become available or free capacity (R-A10, R-X2).
	Waiting        bool      `json:"waiting"`
	Subject        string    `json:"subject,omitempty"`
	Preview        string    `json:"preview,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	LastActivityAt time.Time `json:"last_activity_at"`
	ClosedAt       time.Time `json:"closed_at,omitzero"`
}

// Message directions.
const (
	DirectionIn   = "in"   // from the contact
	DirectionOut  = "out"  // a reply from a user
	DirectionNote = "note" // an internal note, never sent out
)

// Message is one entry of a conversation's thread.
type Message struct {
	ID             string    `json:"id"`
	AccountID      string    `json:"account_id"`
	ConversationID string    `json:"conversation_id"`
	ChannelID      string    `json:"channel_id"`
	Direction      string    `json:"direction"`
	AuthorUserID   string    `json:"author_user_id,omitempty"`
	ContactID      string    `json:"contact_id,omitempty"`
	Body           string    `json:"body"`
	ExternalID     string    `json:"external_id,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	// Meta is the channel's own data about the message as JSON: email
	// headers and attachments, a form's hidden fields, a call's details.
	Meta json.RawMessage `json:"meta,omitempty"`
	// Delivery is an outgoing reply's state: DeliveryQueued, DeliverySent
	// or DeliveryFailed (with DeliveryDetail saying why); empty for
	// messages that are not sent anywhere.
	Delivery       string `json:"delivery,omitempty"`
	DeliveryDetail string `json:"delivery_detail,omitempty"`
}

// Delivery states of an outgoing message.
const (
	DeliveryQueued = "queued"
	DeliverySent   = "sent"
	DeliveryFailed = "failed"
)

// Token is a bearer credential. Only its SHA-256 hash is stored.
type Token struct {
	ID        string `json:"id"`
	AccountID string `json:"account_id"`
	UserID    string `json:"user_id"`
	Hash      string `json:"-"`
	Name      string `json:"name"`
	// Scope is "" for a person's token and TokenIntegration for an
	// integration token (UserID is then the admin who created it).
	Scope     string    `json:"scope,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// TokenIntegration is the scope of integration tokens: they may send
// inbound messages to the account's channels and nothing else.
const TokenIntegration = "integration"

// Event is one change, kept in the account's event log and streamed to the
// users who may see it.
type Event struct {
	ID             int64           `json:"id"`
	AccountID      string          `json:"account_id"`
	Type           string          `json:"type"`
	InboxID        string          `json:"inbox_id,omitempty"`
	ConversationID string          `json:"conversation_id,omitempty"`
	UserID         string          `json:"user_id,omitempty"`
	Data           json.RawMessage `json:"data,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
}

// Event types.
const (
	EventConversationCreated  = "conversation.created"
	EventConversationAssigned = "conversation.assigned"
	EventConversationStatus   = "conversation.status_changed"
	EventMessageCreated       = "message.created"
	EventUserStatus           = "user.status_changed"
	EventOwnerNotification    = "owner.notification" // R-A8: the owner is away and should be emailed
	// EventGap is never stored: a Store's subscription sends it to a
	// subscriber that fell behind and lost events. Its ID is the last
	// event before the loss; EventsSince(ID) recovers what was missed.
	EventGap = "stream.gap"
)
