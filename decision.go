package switchboard

import "time"

// Routing outcomes.
const (
	OutcomeAssigned   = "assigned"   // a user won
	OutcomeUnassigned = "unassigned" // left in the Unassigned view (R-M1, R-A6)
	OutcomeWaiting    = "waiting"    // unassigned because every candidate is at capacity (R-A10)
	OutcomeKept       = "kept"       // a later message stayed with the assignee (R-A11)
)

// Routing triggers: why a decision was made.
const (
	TriggerCreated         = "created"          // a new conversation (R-A11)
	TriggerReturning       = "returning"        // a contact wrote again in a closed conversation or a new one (R-X4)
	TriggerReassignReplies = "reassign_replies" // the assignee is away with reassign replies on (R-V3)
	TriggerBacklogDrain    = "backlog_drain"    // a user became available or freed capacity (R-X2)
	TriggerManual          = "manual"           // a person assigned it (R-M2, R-M4)
	TriggerReplyAssign     = "reply"            // a person replied to an unassigned conversation (R-M3)
	TriggerReplyTimer      = "reply_timer"      // the assignee did not reply in time (R-X3)
)

// Reasons a candidate is dropped (R-A12). Stable strings: the web page and
// the API explain them.
const (
	DropNoSeat        = "no_paid_seat"      // R-A2
	DropNoInboxAccess = "no_inbox_access"   // R-A3, R-I4
	DropNotOnStep     = "not_on_bot_step"   // R-A4
	DropAway          = "away"              // R-A7
	DropAtCapacity    = "at_capacity"       // R-A10
	DropUnknownUser   = "unknown_user"      // the rule names a user that no longer exists
	DropExcluded      = "already_tried"     // R-X3
	DropNotCandidate  = "not_a_candidate"   // R-X4: previous assignee no longer a candidate
	DropDuplicate     = "listed_twice"      // named directly and through a team
	DropOwnerAway     = "owner_away_notify" // R-A8: kept, but notified
)

// Candidate is one user considered by a routing decision, with why they
// were dropped (empty Dropped means they stayed in the running).
type Candidate struct {
	UserID       string    `json:"user_id"`
	Via          string    `json:"via"` // "user", "team:<id>", "owner", "fallback_user", "previous_assignee", "step"
	Status       Status    `json:"status"`
	StatusReason string    `json:"status_reason,omitempty"`
	Load         int       `json:"load"`
	Capacity     int       `json:"capacity"`
	LastActiveAt time.Time `json:"last_active_at,omitzero"`
	LastAssigned time.Time `json:"last_assigned_at,omitzero"`
	Dropped      string    `json:"dropped,omitempty"`
}

// Decision is the record of one routing decision (R-A12): the rule, the
// candidates considered, why each was dropped, who won and why.
type Decision struct {
	ID             string `json:"id"`
	AccountID      string `json:"account_id"`
	ConversationID string `json:"conversation_id"`
	Trigger        string `json:"trigger"`
	Mode           string `json:"mode"`     // the rule's mode, or the fallback's once it applied
	Strategy       string `json:"strategy"` // "random", "least_busy", "owner", "fixed_user", "previous_assignee", "manual", "oldest_first", "none"
	// Candidates is omitted where a summary is enough (the inbound
	// response); GET /api/v1/conversations/{id}/routing has them all.
	Candidates Candidates `json:"candidates,omitempty"`
	Outcome    string     `json:"outcome"`
	AssigneeID string     `json:"assignee_id,omitempty"`
	// Reason explains the outcome in one sentence for people ("least busy:
	// 2 open chats, fewer than anyone else").
	Reason string `json:"reason"`
	// TieBreak names the tie-break that decided, if any: "recently_active",
	// "least_recently_assigned", "rule_order".
	TieBreak     string    `json:"tie_break,omitempty"`
	NotifyOwner  bool      `json:"notify_owner,omitempty"`
	UsedFallback bool      `json:"used_fallback,omitempty"`
	ActorUserID  string    `json:"actor_user_id,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}
