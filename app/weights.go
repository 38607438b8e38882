package app

import (
	"context"
	"fmt"

	sb "github.com/switchboard-dev/switchboard"
)

// maxCost bounds a kind's cost and a user's capacity in units (R-X5).
const maxCost = 1_000_000

// WeightsInput replaces the account's weighted-capacity setting (R-X5).
// Costs missing from the input keep their defaults; Capacities replaces
// the per-user capacities as a whole (nil: none).
type WeightsInput struct {
	Enabled    bool                   `json:"enabled"`
	Costs      map[sb.ChannelKind]int `json:"costs,omitempty"`
	Capacities map[string]int         `json:"capacities,omitempty"`
}

// Weights returns the account's weighted-capacity setting (R-X5): the
// stored one, or the defaults (off) if it was never set. Admins only.
func (s *Service) Weights(ctx context.Context, a Actor) (*sb.RoutingWeights, error) {
	const op = "app.Weights"
	if err := requireWeightsAdmin(op, a); err != nil {
		return nil, err
	}
	var w *sb.RoutingWeights
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		w, err = weightsOf(ctx, tx, a.AccountID)
		return err
	})
	return w, sb.Wrap(op, err)
}

// weightsOf reads the setting, or the defaults.
func weightsOf(ctx context.Context, tx sb.Tx, accountID string) (*sb.RoutingWeights, error) {
	w, err := tx.RoutingWeights(ctx, accountID)
	if sb.IsKind(err, sb.NotFound) {
		d := sb.DefaultWeights()
		return &d, nil
	}
	return w, err
}

// SetWeights replaces the account's weighted-capacity setting (R-X5).
// Admins only; Invalid for an unknown kind, a cost or capacity out of
// [0, 1000000], or a capacity for a user of another account. Routing
// counts units from the next decision on; capacity that grew is given to
// waiting conversations at once (R-X2).
func (s *Service) SetWeights(ctx context.Context, a Actor, in WeightsInput) (*sb.RoutingWeights, error) {
	const op = "app.SetWeights"
	if err := requireWeightsAdmin(op, a); err != nil {
		return nil, err
	}
	w := sb.DefaultWeights()
	w.Enabled = in.Enabled
	for k, c := range in.Costs {
		if !k.Valid() {
			return nil, sb.Invalidf(op, "costs", "unknown channel kind %q", k)
		}
		if c < 0 || c > maxCost {
			return nil, sb.Invalidf(op, "costs", "the cost of %s must be between 0 and %d units", k, maxCost)
		}
		w.Costs[k] = c
	}
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		users, err := tx.Users(ctx, a.AccountID)
		if err != nil {
			return err
		}
		known := make(map[string]bool, len(users))
		for _, u := range users {
			known[u.ID] = true
		}
		for id, c := range in.Capacities {
			if !known[id] {
				return sb.Invalidf(op, "capacities", "user %q is not in this account", id)
			}
			if c < 0 || c > maxCost {
				return sb.Invalidf(op, "capacities", "a capacity must be between 0 and %d units", maxCost)
			}
			w.Capacities[id] = c
		}
		w.UpdatedAt = s.Now()
		if err := tx.SetRoutingWeights(ctx, a.AccountID, &w); err != nil {
			return err
		}
		return s.drainAll(ctx, tx, a.AccountID)
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return &w, nil
}

// describeUnits is how a reason names a load in units.
func describeUnits(load, capacity int) string {
	if capacity == 0 {
		return fmt.Sprintf("%d units", load)
	}
	return fmt.Sprintf("%d of %d units", load, capacity)
}
