package switchboard

import "time"

// RoutingWeights is an account's weighted capacity setting (R-X5). When
// Enabled, a user's load is the sum of Costs over their open assigned
// conversations, in units, and least-busy (R-A9) and capacity (R-A10)
// count units instead of open chat-like conversations. When not, routing
// counts open chat-like conversations as it always did.
type RoutingWeights struct {
	Enabled bool `json:"enabled"`
	// Costs is what one open conversation of a kind costs, in units. A
	// kind missing from the map costs nothing.
	Costs map[ChannelKind]int `json:"costs"`
	// Capacities gives users their capacity in units. A user without an
	// entry has ChatCapacity × Costs[chat] (so capacity 3 holds three
	// chats), and 0 means no limit.
	Capacities map[string]int `json:"capacities"`
	UpdatedAt  time.Time      `json:"updated_at,omitzero"`
}

// DefaultCosts are R-X5's default costs per channel kind: a call takes a
// whole agent, a chat a third, email and forms a tenth.
func DefaultCosts() map[ChannelKind]int {
	return map[ChannelKind]int{
		KindCalling: 100, KindChat: 34, KindMessenger: 34, KindWhatsApp: 34, KindEmail: 10, KindForm: 10,
	}
}

// DefaultWeights is the setting of an account that never set one:
// weights off, the default costs, no per-user capacities.
func DefaultWeights() RoutingWeights {
	return RoutingWeights{Costs: DefaultCosts(), Capacities: map[string]int{}}
}

// Cost returns the units one open conversation of kind k costs.
func (w *RoutingWeights) Cost(k ChannelKind) int { return w.Costs[k] }

// CapacityOf returns u's capacity in units; 0 means no limit.
func (w *RoutingWeights) CapacityOf(u *User) int {
	if c, ok := w.Capacities[u.ID]; ok {
		return c
	}
	return u.ChatCapacity * w.Costs[KindChat]
}

// KindLoad is how many open conversations of one kind a user has assigned.
type KindLoad struct {
	UserID string
	Kind   ChannelKind
	Open   int
}

// RecordedConversation is one conversation of a channel as the dry run
// (R-X6) replays it: when it arrived, from whom, when it was first
// assigned and closed.
type RecordedConversation struct {
	ID               string
	ContactID        string
	ContactOwnerID   string
	ContactCreatedAt time.Time
	AssigneeID       string // the current assignee
	CreatedAt        time.Time
	// AssignedAt is the first routing record that assigned it (zero if none).
	AssignedAt time.Time
	ClosedAt   time.Time // zero while open
}
