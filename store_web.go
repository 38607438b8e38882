package switchboard

import "context"

// ConversationCount is how many conversations share an inbox, an assignee
// and a team (either may be empty), for the web inbox's view counts.
type ConversationCount struct {
	InboxID    string
	AssigneeID string
	TeamID     string
	N          int
}

// WebTx is what the agents' web inbox needs beyond the core: signing out,
// the contacts of a page of conversations, and the views' counts.
type WebTx interface {
	// DeleteToken removes the account's token with this hash (sign-out);
	// NotFound if there is none.
	DeleteToken(ctx context.Context, accountID, hash string) error
	// ContactsByIDs returns the account's contacts with these ids, in no
	// particular order; missing ids are left out.
	ContactsByIDs(ctx context.Context, accountID string, ids []string) ([]*Contact, error)
	// ConversationCounts counts the account's conversations with status,
	// grouped by (inbox, assignee, team), in no particular order.
	ConversationCounts(ctx context.Context, accountID, status string) ([]ConversationCount, error)
}
