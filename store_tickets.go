package switchboard

import (
	"context"
	"time"
)

// Pipeline is an ordered list of stages a ticket moves through (R-T1).
// Pipeline names are unique in an account.
type Pipeline struct {
	ID        string    `json:"id"`
	AccountID string    `json:"account_id"`
	Name      string    `json:"name"`
	Stages    []Stage   `json:"stages"` // in order; never empty
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Stage is one step of a pipeline. Its id is unique in its pipeline.
type Stage struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Ticket is a unit of work tracked through a pipeline's stages, usually
// created from a conversation (R-T1, R-T4). OwnerSetManually is true once a
// person chose the owner: from then on the owner no longer follows the
// conversation's assignee (R-T2).
type Ticket struct {
	ID               string `json:"id"`
	AccountID        string `json:"account_id"`
	PipelineID       string `json:"pipeline_id"`
	StageID          string `json:"stage_id"`
	Name             string `json:"name"`
	Description      string `json:"description,omitempty"`
	OwnerID          string `json:"owner_id,omitempty"`
	OwnerSetManually bool   `json:"owner_set_manually"`
	ContactID        string `json:"contact_id,omitempty"`
	ConversationID   string `json:"conversation_id,omitempty"`
	// InboxID is the inbox of the ticket's conversation ("" without one):
	// who may see the conversation may see the ticket (R-I4).
	InboxID   string    `json:"inbox_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TicketFilter selects tickets, newest first.
type TicketFilter struct {
	AccountID      string
	PipelineID     string
	StageID        string
	OwnerID        string
	ContactID      string
	ConversationID string
	// InboxIDs limits the tickets to those of conversations in these
	// inboxes plus those without a conversation (R-I4); nil means no limit.
	InboxIDs []string
	// Cursor: continue after this position (exclusive).
	AfterCreated time.Time
	AfterID      string
	Limit        int
}

// TicketLimits are an account's ticket settings. ContactLimit is R-T3's
// association limit: the most tickets one contact may have.
type TicketLimits struct {
	AccountID    string    `json:"account_id"`
	ContactLimit int       `json:"contact_limit"`
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
}

// ConversationFlag marks a conversation with something a person should
// know, such as R-T3's "no ticket: the contact is at the limit".
type ConversationFlag struct {
	AccountID      string    `json:"account_id"`
	ConversationID string    `json:"conversation_id"`
	Flag           string    `json:"flag"`
	Detail         string    `json:"detail"`
	CreatedAt      time.Time `json:"created_at"`
}

// Conversation flags.
const (
	FlagTicketLimitReached = "ticket_limit_reached" // R-T3
)

// Ticket event types.
const (
	EventTicketCreated       = "ticket.created"
	EventTicketUpdated       = "ticket.updated"
	EventConversationFlagged = "conversation.flagged"
)

// TicketOwner is one (ticket, owner) pair of FollowAssignees.
type TicketOwner struct {
	TicketID string
	OwnerID  string
}

// TicketsTx are the Tx methods of tickets and pipelines (R-T1 … R-T4).
// Like every Tx method they are scoped to an account.
type TicketsTx interface {
	// CreatePipeline inserts p, generating its ID if empty (stage ids are
	// the caller's). Conflict if the account has a pipeline of that name.
	CreatePipeline(ctx context.Context, p *Pipeline) error
	// UpdatePipeline writes name, stages and updated-at. NotFound, Conflict.
	UpdatePipeline(ctx context.Context, p *Pipeline) error
	Pipeline(ctx context.Context, accountID, id string) (*Pipeline, error)
	// Pipelines lists the account's pipelines, oldest first.
	Pipelines(ctx context.Context, accountID string) ([]*Pipeline, error)

	// CreateTickets inserts ts in one statement per chunk (ids generated
	// if empty). NotFound if a pipeline does not exist in the account.
	CreateTickets(ctx context.Context, ts []*Ticket) error
	// UpdateTicket writes pipeline, stage, name, description, owner,
	// owner-set-manually, contact, conversation, inbox and updated-at.
	UpdateTicket(ctx context.Context, t *Ticket) error
	Ticket(ctx context.Context, accountID, id string) (*Ticket, error)
	// Tickets lists what f selects, newest first (ties by id, descending).
	// Limit <= 0 means 50; at most 500.
	Tickets(ctx context.Context, f TicketFilter) ([]*Ticket, error)
	// ContactTicketCounts returns how many tickets each of the contacts
	// has; contacts without tickets are absent.
	ContactTicketCounts(ctx context.Context, accountID string, contactIDs []string) (map[string]int, error)
	// StageTicketCounts returns how many tickets are in each stage of the
	// pipeline; empty stages are absent.
	StageTicketCounts(ctx context.Context, accountID, pipelineID string) (map[string]int, error)
	// FollowAssignees sets each ticket's owner to the given one where the
	// ticket has no owner and its owner was not set manually (R-T2), and
	// returns the tickets it changed, as they are now. One statement.
	FollowAssignees(ctx context.Context, accountID string, owners []TicketOwner, at time.Time) ([]*Ticket, error)

	// TicketLimits returns the account's ticket settings; NotFound if they
	// were never set (the app's defaults apply).
	TicketLimits(ctx context.Context, accountID string) (*TicketLimits, error)
	// PutTicketLimits inserts or replaces the account's ticket settings.
	PutTicketLimits(ctx context.Context, l *TicketLimits) error

	// AddConversationFlags stores the flags; a flag a conversation already
	// has is kept as it was.
	AddConversationFlags(ctx context.Context, fs []*ConversationFlag) error
	// ConversationFlags returns a conversation's flags, oldest first.
	ConversationFlags(ctx context.Context, accountID, conversationID string) ([]*ConversationFlag, error)
}
