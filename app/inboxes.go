package app

import (
	"context"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
)

// ListInboxes lists inboxes: all of them for admins (to configure), the
// ones a user has access to for everyone else (R-I4).
func (s *Service) ListInboxes(ctx context.Context, a Actor) ([]*sb.Inbox, error) {
	var out []*sb.Inbox
	err := s.store.View(ctx, func(tx sb.Tx) error {
		all, err := tx.Inboxes(ctx, a.AccountID)
		if err != nil {
			return err
		}
		teams, err := teamMap(ctx, tx, a.AccountID)
		if err != nil {
			return err
		}
		out = make([]*sb.Inbox, 0, len(all))
		for _, in := range all {
			if a.IsAdmin() || canSeeInbox(a, in, teams) {
				out = append(out, in)
			}
		}
		return nil
	})
	return out, sb.Wrap("app.ListInboxes", err)
}

// GetInbox returns an inbox the actor may see (NotFound otherwise).
func (s *Service) GetInbox(ctx context.Context, a Actor, id string) (*sb.Inbox, error) {
	const op = "app.GetInbox"
	var in *sb.Inbox
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		if in, err = tx.Inbox(ctx, a.AccountID, id); err != nil {
			return err
		}
		teams, err := teamMap(ctx, tx, a.AccountID)
		if err != nil {
			return err
		}
		if !a.IsAdmin() && !canSeeInbox(a, in, teams) {
			return sb.E(op, sb.NotFound, "not_found", "no such inbox")
		}
		return nil
	})
	return in, sb.Wrap(op, err)
}

// CreateInbox adds an inbox (R-I1). Admins only.
func (s *Service) CreateInbox(ctx context.Context, a Actor, in InboxInput) (*sb.Inbox, error) {
	const op = "app.CreateInbox"
	if err := requireAdmin(op, a); err != nil {
		return nil, err
	}
	inbox := &sb.Inbox{ID: s.newID(), AccountID: a.AccountID, Name: in.Name, TeamIDs: in.TeamIDs, CreatedAt: s.Now()}
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		if err := validateInbox(ctx, tx, op, inbox); err != nil {
			return err
		}
		return tx.CreateInbox(ctx, inbox)
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return inbox, nil
}

// UpdateInbox renames an inbox or changes which teams may access it (R-I4).
// Needs edit access to the inbox (R-I3).
func (s *Service) UpdateInbox(ctx context.Context, a Actor, id string, p InboxPatch) (*sb.Inbox, error) {
	const op = "app.UpdateInbox"
	var inbox *sb.Inbox
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		var err error
		if inbox, err = tx.Inbox(ctx, a.AccountID, id); err != nil {
			return err
		}
		teams, err := teamMap(ctx, tx, a.AccountID)
		if err != nil {
			return err
		}
		if err := requireInboxEdit(op, a, inbox, teams); err != nil {
			return err
		}
		if p.Name != nil {
			inbox.Name = *p.Name
		}
		if p.TeamIDs != nil {
			inbox.TeamIDs = *p.TeamIDs
		}
		if err := validateInbox(ctx, tx, op, inbox); err != nil {
			return err
		}
		return tx.UpdateInbox(ctx, inbox)
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return inbox, nil
}

func validateInbox(ctx context.Context, tx sb.Tx, op string, in *sb.Inbox) error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return sb.Invalidf(op, "name", "name is required")
	}
	in.TeamIDs = dedupe(in.TeamIDs)
	return requireTeams(ctx, tx, op, "team_ids", in.AccountID, in.TeamIDs)
}
