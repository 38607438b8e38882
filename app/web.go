package app

import (
	"context"
	"slices"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
)

// Logout revokes a bearer token (the web inbox's session): it stops working
// at once on this process and within the token cache's lifetime (10 s) on
// others. Unauthenticated for an unknown token.
func (s *Service) Logout(ctx context.Context, token string) error {
	const op = "app.Logout"
	hash := hashToken(token)
	var t *sb.Token
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		t, err = tx.TokenByHash(ctx, hash)
		return err
	})
	if sb.IsKind(err, sb.NotFound) {
		return sb.E(op, sb.Unauthenticated, "bad_token", "this session has already ended")
	}
	if err != nil {
		return sb.Wrap(op, err)
	}
	err = s.update(ctx, t.AccountID, func(tx sb.Tx) error {
		tx.CredentialsChanged(sb.CredentialsChange{TokenHash: hash})
		return tx.DeleteToken(ctx, t.AccountID, hash)
	})
	if sb.IsKind(err, sb.NotFound) {
		return nil // signed out twice at once: it is gone either way
	}
	return sb.Wrap(op, err)
}

// forget drops one cached token.
func (c *tokenCache) forget(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, hash)
}

// AssignOptions is what the Assignee menu of a conversation offers.
type AssignOptions struct {
	// Users are the users who may be assigned the conversation (R-I4),
	// sorted by name.
	Users []*UserView `json:"users"`
	// Teams are the teams the conversation may be assigned to (R-I4).
	Teams []*sb.Team `json:"teams"`
	// CanAssignOthers says whether the actor may give it to someone else
	// or unassign it (R-M4); without it they may only take it (R-M2).
	CanAssignOthers bool `json:"can_assign_others"`
}

// AssignOptions lists who a visible conversation may be assigned to.
func (s *Service) AssignOptions(ctx context.Context, a Actor, id string) (*AssignOptions, error) {
	const op = "app.AssignOptions"
	out := &AssignOptions{Users: []*UserView{}, Teams: []*sb.Team{}}
	err := s.store.View(ctx, func(tx sb.Tx) error {
		c, cfg, err := visibleConversation(ctx, tx, op, a, id)
		if err != nil {
			return err
		}
		inbox := cfg.inboxes[c.InboxID]
		for _, u := range cfg.users {
			if canBeAssigned(u.ID, inbox, cfg.teams) {
				out.Users = append(out.Users, s.userView(u))
			}
		}
		for _, t := range cfg.teams {
			if teamCanBeAssigned(t.ID, inbox) {
				out.Teams = append(out.Teams, t)
			}
		}
		out.CanAssignOthers = canAssignOthers(a, c)
		return nil
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	slices.SortFunc(out.Users, func(x, y *UserView) int { return strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name)) })
	slices.SortFunc(out.Teams, func(x, y *sb.Team) int { return strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name)) })
	return out, nil
}

// ViewCounts are the numbers beside the web inbox's views (R-M5): open
// conversations the actor may see (R-I4).
type ViewCounts struct {
	Unassigned int            `json:"unassigned"`
	Mine       int            `json:"mine"`
	Open       int            `json:"open"`
	Teams      map[string]int `json:"teams"`   // by team id: assigned to the team or one of its members
	Inboxes    map[string]int `json:"inboxes"` // by inbox id: every inbox the actor may see, 0 included
}

// CountViews counts the open conversations of each view.
func (s *Service) CountViews(ctx context.Context, a Actor) (*ViewCounts, error) {
	const op = "app.CountViews"
	out := &ViewCounts{Teams: map[string]int{}, Inboxes: map[string]int{}}
	err := s.store.View(ctx, func(tx sb.Tx) error {
		cfg, err := loadAccountConfig(ctx, tx, a.AccountID)
		if err != nil {
			return err
		}
		groups, err := tx.ConversationCounts(ctx, a.AccountID, sb.StatusOpen)
		if err != nil {
			return err
		}
		member := map[string][]string{} // user id → teams they are a member of
		for _, t := range cfg.teams {
			for _, id := range append(slices.Clone(t.MainMemberIDs), t.ExtraMemberIDs...) {
				member[id] = append(member[id], t.ID)
			}
		}
		visible := map[string]bool{}
		for id, in := range cfg.inboxes {
			if visible[id] = canSeeInbox(a, in, cfg.teams); visible[id] {
				out.Inboxes[id] = 0
			}
		}
		for _, g := range groups {
			if !visible[g.InboxID] {
				continue
			}
			out.Open += g.N
			out.Inboxes[g.InboxID] += g.N
			if g.AssigneeID == "" && g.TeamID == "" {
				out.Unassigned += g.N
			}
			if g.AssigneeID != "" && g.AssigneeID == a.UserID {
				out.Mine += g.N
			}
			// The team view shows conversations of the team or of any of
			// its members (ListConversations' TeamID filter): count each once.
			seen := map[string]bool{}
			if g.TeamID != "" {
				seen[g.TeamID] = true
			}
			for _, t := range member[g.AssigneeID] {
				seen[t] = true
			}
			for t := range seen {
				out.Teams[t] += g.N
			}
		}
		return nil
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return out, nil
}

// ContactsByIDs returns the account's contacts with these ids, keyed by id
// (for showing who a list of conversations is with). Contacts are
// account-wide, like GetContact.
func (s *Service) ContactsByIDs(ctx context.Context, a Actor, ids []string) (map[string]*sb.Contact, error) {
	out := make(map[string]*sb.Contact, len(ids))
	err := s.store.View(ctx, func(tx sb.Tx) error {
		cs, err := tx.ContactsByIDs(ctx, a.AccountID, ids)
		for _, c := range cs {
			out[c.ID] = c
		}
		return err
	})
	return out, sb.Wrap("app.ContactsByIDs", err)
}
