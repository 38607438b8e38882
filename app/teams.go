package app

import (
	"context"
	"slices"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
)

// ListTeams lists the account's teams; any user may read them.
func (s *Service) ListTeams(ctx context.Context, a Actor) ([]*sb.Team, error) {
	var ts []*sb.Team
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		ts, err = tx.Teams(ctx, a.AccountID)
		return err
	})
	return ts, sb.Wrap("app.ListTeams", err)
}

// CreateTeam adds a team. Admins only; members must be users of the account.
func (s *Service) CreateTeam(ctx context.Context, a Actor, in TeamInput) (*sb.Team, error) {
	const op = "app.CreateTeam"
	if err := requireAdmin(op, a); err != nil {
		return nil, err
	}
	t := &sb.Team{ID: s.newID(), AccountID: a.AccountID, Name: in.Name, MainMemberIDs: in.MainMemberIDs, ExtraMemberIDs: in.ExtraMemberIDs, CreatedAt: s.Now()}
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		if err := s.validateTeam(ctx, tx, op, t); err != nil {
			return err
		}
		return tx.CreateTeam(ctx, t)
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return t, nil
}

// UpdateTeam changes a team. Admins only. New members may drain the backlog.
func (s *Service) UpdateTeam(ctx context.Context, a Actor, id string, p TeamPatch) (*sb.Team, error) {
	const op = "app.UpdateTeam"
	if err := requireAdmin(op, a); err != nil {
		return nil, err
	}
	var t *sb.Team
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		var err error
		if t, err = tx.Team(ctx, a.AccountID, id); err != nil {
			return err
		}
		if p.Name != nil {
			t.Name = *p.Name
		}
		if p.MainMemberIDs != nil {
			t.MainMemberIDs = *p.MainMemberIDs
		}
		if p.ExtraMemberIDs != nil {
			t.ExtraMemberIDs = *p.ExtraMemberIDs
		}
		if err := s.validateTeam(ctx, tx, op, t); err != nil {
			return err
		}
		if err := tx.UpdateTeam(ctx, t); err != nil {
			return err
		}
		for _, uid := range t.MainMemberIDs {
			if err := s.drainTo(ctx, tx, a.AccountID, uid); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return t, nil
}

// DeleteTeam removes a team no inbox or routing rule uses. Admins only;
// Conflict while it is in use.
func (s *Service) DeleteTeam(ctx context.Context, a Actor, id string) error {
	const op = "app.DeleteTeam"
	if err := requireAdmin(op, a); err != nil {
		return err
	}
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		if _, err := tx.Team(ctx, a.AccountID, id); err != nil {
			return err
		}
		inboxes, err := tx.Inboxes(ctx, a.AccountID)
		if err != nil {
			return err
		}
		for _, in := range inboxes {
			if slices.Contains(in.TeamIDs, id) {
				return sb.E(op, sb.Conflict, "team_in_use", "inbox %q gives this team access; change the inbox first", in.Name)
			}
		}
		chans, err := tx.Channels(ctx, a.AccountID, "")
		if err != nil {
			return err
		}
		for _, c := range chans {
			if slices.Contains(c.Routing.TeamIDs, id) || slices.Contains(c.Routing.Fallback.TeamIDs, id) {
				return sb.E(op, sb.Conflict, "team_in_use", "channel %q routes to this team; change its routing first", c.Name)
			}
		}
		return tx.DeleteTeam(ctx, a.AccountID, id)
	})
	return sb.Wrap(op, err)
}

func (s *Service) validateTeam(ctx context.Context, tx sb.Tx, op string, t *sb.Team) error {
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" {
		return sb.Invalidf(op, "name", "name is required")
	}
	t.MainMemberIDs = dedupe(t.MainMemberIDs)
	t.ExtraMemberIDs = dedupe(t.ExtraMemberIDs)
	for _, id := range t.MainMemberIDs {
		if slices.Contains(t.ExtraMemberIDs, id) {
			return sb.Invalidf(op, "extra_member_ids", "user %s cannot be both a main and an extra member", id)
		}
	}
	if err := requireUsers(ctx, tx, op, "main_member_ids", t.AccountID, t.MainMemberIDs); err != nil {
		return err
	}
	return requireUsers(ctx, tx, op, "extra_member_ids", t.AccountID, t.ExtraMemberIDs)
}

// requireUsers checks that every id is a user of the account.
func requireUsers(ctx context.Context, tx sb.Tx, op, field, accountID string, ids []string) error {
	for _, id := range ids {
		if _, err := tx.User(ctx, accountID, id); err != nil {
			if sb.IsKind(err, sb.NotFound) {
				return sb.Invalidf(op, field, "%s names user %q, who is not in this account", field, id)
			}
			return err
		}
	}
	return nil
}

// requireTeams checks that every id is a team of the account.
func requireTeams(ctx context.Context, tx sb.Tx, op, field, accountID string, ids []string) error {
	for _, id := range ids {
		if _, err := tx.Team(ctx, accountID, id); err != nil {
			if sb.IsKind(err, sb.NotFound) {
				return sb.Invalidf(op, field, "%s names team %q, which is not in this account", field, id)
			}
			return err
		}
	}
	return nil
}

func dedupe(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// teamMap loads the account's teams keyed by id.
func teamMap(ctx context.Context, tx sb.Tx, accountID string) (map[string]*sb.Team, error) {
	ts, err := tx.Teams(ctx, accountID)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*sb.Team, len(ts))
	for _, t := range ts {
		m[t.ID] = t
	}
	return m, nil
}
