package switchboard

import (
	"context"
	"time"
)

// RoutingTx holds the store methods of weighted capacity (R-X5) and the
// dry run (R-X6).
type RoutingTx interface {
	// RoutingWeights returns the account's weights setting; NotFound if it
	// was never set.
	RoutingWeights(ctx context.Context, accountID string) (*RoutingWeights, error)
	// SetRoutingWeights creates or replaces the account's weights setting.
	SetRoutingWeights(ctx context.Context, accountID string, w *RoutingWeights) error
	// OpenLoads counts the open conversations assigned to each user, per
	// channel kind; users with none are absent.
	OpenLoads(ctx context.Context, accountID string) ([]KindLoad, error)
	// RecordedConversations returns the channel's conversations created in
	// [from, to), oldest first, with their contact's owner and the time
	// of their first assignment.
	RecordedConversations(ctx context.Context, accountID, channelID string, from, to time.Time) ([]RecordedConversation, error)
}
