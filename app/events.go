package app

import (
	"context"

	sb "github.com/switchboard-dev/switchboard"
)

// EventFilter returns a predicate that is true for the account events the
// actor may see (R-I4): events about an inbox only for those with access to
// it, account-wide events (a user's status) for everyone. It is a snapshot
// of inbox access when called; call it again to pick up changes to teams
// and inboxes.
func (s *Service) EventFilter(ctx context.Context, a Actor) (func(sb.Event) bool, error) {
	var see func(sb.Event) bool
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		see, err = eventVisibility(ctx, tx, a)
		return err
	})
	if err != nil {
		return nil, sb.Wrap("app.EventFilter", err)
	}
	return see, nil
}

// EventsSince returns the events after afterID that the actor may see,
// oldest first, for replaying a live stream from its Last-Event-ID. It looks
// at up to limit events of the account; next is the id of the last one it
// looked at (seen or not), to pass as afterID for more. next == afterID means
// there is nothing after afterID.
func (s *Service) EventsSince(ctx context.Context, a Actor, afterID int64, limit int) (events []*sb.Event, next int64, err error) {
	next = afterID
	err = s.store.View(ctx, func(tx sb.Tx) error {
		see, err := eventVisibility(ctx, tx, a)
		if err != nil {
			return err
		}
		all, err := tx.EventsSince(ctx, a.AccountID, afterID, limit)
		if err != nil {
			return err
		}
		events = make([]*sb.Event, 0, len(all))
		for _, e := range all {
			next = e.ID
			if see(*e) {
				events = append(events, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, afterID, sb.Wrap("app.EventsSince", err)
	}
	return events, next, nil
}

// eventVisibility loads the account's inboxes and teams and returns
// canSeeEvent over them.
func eventVisibility(ctx context.Context, tx sb.Tx, a Actor) (func(sb.Event) bool, error) {
	inboxes, err := tx.Inboxes(ctx, a.AccountID)
	if err != nil {
		return nil, err
	}
	teams, err := teamMap(ctx, tx, a.AccountID)
	if err != nil {
		return nil, err
	}
	visible := make(map[string]bool, len(inboxes))
	for _, in := range inboxes {
		visible[in.ID] = canSeeInbox(a, in, teams)
	}
	return func(e sb.Event) bool { return canSeeEvent(a, e, visible) }, nil
}
