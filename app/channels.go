package app

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// ListChannels lists the channels of an inbox the actor may see; an empty
// inboxID lists all the actor may see.
func (s *Service) ListChannels(ctx context.Context, a Actor, inboxID string) ([]*ChannelView, error) {
	const op = "app.ListChannels"
	var out []*ChannelView
	err := s.store.View(ctx, func(tx sb.Tx) error {
		cfg, err := loadAccountConfig(ctx, tx, a.AccountID)
		if err != nil {
			return err
		}
		if inboxID != "" {
			in, ok := cfg.inboxes[inboxID]
			if !ok || (!a.IsAdmin() && !canSeeInbox(a, in, cfg.teams)) {
				return sb.E(op, sb.NotFound, "not_found", "no such inbox")
			}
		}
		chans, err := tx.Channels(ctx, a.AccountID, inboxID)
		if err != nil {
			return err
		}
		for _, c := range chans {
			if a.IsAdmin() || canSeeInbox(a, cfg.inboxes[c.InboxID], cfg.teams) {
				out = append(out, cfg.channelView(c))
			}
		}
		return nil
	})
	return out, sb.Wrap(op, err)
}

// GetChannel returns a channel the actor may see.
func (s *Service) GetChannel(ctx context.Context, a Actor, id string) (*ChannelView, error) {
	const op = "app.GetChannel"
	var out *ChannelView
	err := s.store.View(ctx, func(tx sb.Tx) error {
		c, err := tx.Channel(ctx, a.AccountID, id)
		if err != nil {
			return err
		}
		cfg, err := loadAccountConfig(ctx, tx, a.AccountID)
		if err != nil {
			return err
		}
		if !a.IsAdmin() && !canSeeInbox(a, cfg.inboxes[c.InboxID], cfg.teams) {
			return sb.E(op, sb.NotFound, "not_found", "no such channel")
		}
		out = cfg.channelView(c)
		return nil
	})
	return out, sb.Wrap(op, err)
}

// CreateChannel connects a channel to an inbox, or to a new inbox created
// with it when inboxID is empty and in.NewInbox is set (R-I1). Needs account
// access and edit access to the inbox (R-I3); routing rules are checked
// against R-A2 and the inbox's teams.
func (s *Service) CreateChannel(ctx context.Context, a Actor, inboxID string, in ChannelInput) (*ChannelView, error) {
	const op = "app.CreateChannel"
	if err := requireAdmin(op, a); err != nil {
		return nil, sb.E(op, sb.Forbidden, "account_access_required", "connecting channels needs account access (an admin)")
	}
	c := &sb.Channel{ID: s.newID(), AccountID: a.AccountID, InboxID: inboxID, Kind: in.Kind, Name: in.Name, Config: in.Config, CreatedAt: s.Now()}
	if in.Routing != nil {
		c.Routing = *in.Routing
	}
	if in.Tickets != nil {
		c.Tickets = *in.Tickets
	}
	var out *ChannelView
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		if inboxID == "" {
			if in.NewInbox == nil {
				return sb.Invalidf(op, "inbox_id", "say which inbox to connect to: inbox_id, or new_inbox to create one")
			}
			inbox := &sb.Inbox{ID: s.newID(), AccountID: a.AccountID, Name: in.NewInbox.Name, TeamIDs: in.NewInbox.TeamIDs, CreatedAt: s.Now()}
			if err := validateInbox(ctx, tx, op, inbox); err != nil {
				return err
			}
			if err := tx.CreateInbox(ctx, inbox); err != nil {
				return err
			}
			c.InboxID = inbox.ID
		}
		cfg, err := loadAccountConfig(ctx, tx, a.AccountID)
		if err != nil {
			return err
		}
		if err := cfg.checkChannel(op, a, c, true); err != nil {
			return err
		}
		if err := cfg.checkChatflowOf(op, c); err != nil {
			return err
		}
		keys, err := s.checkKind(c)
		if err != nil {
			return err
		}
		if err := tx.CreateChannel(ctx, c); err != nil {
			return err
		}
		if err := s.savedKind(ctx, tx, op, c, keys); err != nil {
			return err
		}
		if err := setEmailAddresses(ctx, tx, op, c); err != nil {
			return err
		}
		out = cfg.channelView(c)
		return nil
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return out, nil
}

// UpdateChannel changes a channel's name, config, routing or tickets, with
// the same checks as CreateChannel. A rule change drains the backlog.
func (s *Service) UpdateChannel(ctx context.Context, a Actor, id string, p ChannelPatch) (*ChannelView, error) {
	const op = "app.UpdateChannel"
	var out *ChannelView
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		c, err := tx.Channel(ctx, a.AccountID, id)
		if err != nil {
			return err
		}
		cfg, err := loadAccountConfig(ctx, tx, a.AccountID)
		if err != nil {
			return err
		}
		if p.Name != nil {
			c.Name = *p.Name
		}
		if p.Config != nil {
			c.Config = keepSecrets(c.Config, p.Config)
		}
		if p.Routing != nil {
			c.Routing = *p.Routing
		}
		if p.Tickets != nil {
			c.Tickets = *p.Tickets
		}
		if err := cfg.checkChannel(op, a, c, p.Routing != nil); err != nil {
			return err
		}
		if err := cfg.checkChatflowOf(op, c); err != nil {
			return err
		}
		keys, err := s.checkKind(c)
		if err != nil {
			return err
		}
		if err := tx.UpdateChannel(ctx, c); err != nil {
			return err
		}
		if err := s.savedKind(ctx, tx, op, c, keys); err != nil {
			return err
		}
		if err := setEmailAddresses(ctx, tx, op, c); err != nil {
			return err
		}
		out = cfg.channelView(c)
		if p.Routing != nil {
			return s.drainAll(ctx, tx, a.AccountID)
		}
		return nil
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return out, nil
}

// DeleteChannel disconnects a channel. Its conversations stay. Needs edit
// access to its inbox (R-I3).
func (s *Service) DeleteChannel(ctx context.Context, a Actor, id string) error {
	const op = "app.DeleteChannel"
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		c, err := tx.Channel(ctx, a.AccountID, id)
		if err != nil {
			return err
		}
		cfg, err := loadAccountConfig(ctx, tx, a.AccountID)
		if err != nil {
			return err
		}
		if err := requireInboxEdit(op, a, cfg.inboxes[c.InboxID], cfg.teams); err != nil {
			return err
		}
		return tx.DeleteChannel(ctx, a.AccountID, id)
	})
	return sb.Wrap(op, err)
}

// accountConfig is an account's users, teams and inboxes, loaded together
// for checks that need all three.
type accountConfig struct {
	users   map[string]*sb.User
	teams   map[string]*sb.Team
	inboxes map[string]*sb.Inbox
}

func loadAccountConfig(ctx context.Context, tx sb.Tx, accountID string) (*accountConfig, error) {
	rows, err := loadRows(ctx, tx, accountID)
	if err != nil {
		return nil, err
	}
	cfg := &accountConfig{users: make(map[string]*sb.User, len(rows.users)), teams: make(map[string]*sb.Team, len(rows.teams)), inboxes: make(map[string]*sb.Inbox, len(rows.inboxes))}
	for _, u := range rows.users {
		cfg.users[u.ID] = u
	}
	for _, t := range rows.teams {
		cfg.teams[t.ID] = t
	}
	for _, in := range rows.inboxes {
		cfg.inboxes[in.ID] = in
	}
	return cfg, nil
}

// checkChannel validates a channel. ruleChanged says whether this change
// sets its routing rule: only then is the rule checked against R-A2 and
// the inbox's teams (a user who lost their seat later does not block
// renaming the channel; channelView reports them), and switching routing on
// needs a seated actor (R-A2).
func (cfg *accountConfig) checkChannel(op string, a Actor, c *sb.Channel, ruleChanged bool) error {
	inbox, ok := cfg.inboxes[c.InboxID]
	if !ok {
		return sb.E(op, sb.NotFound, "inbox_not_found", "no such inbox")
	}
	if err := requireInboxEdit(op, a, inbox, cfg.teams); err != nil {
		return err
	}
	if !c.Kind.Valid() {
		return sb.Invalidf(op, "kind", "kind must be one of email, chat, messenger, whatsapp, form, calling")
	}
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return sb.Invalidf(op, "name", "name is required")
	}
	if len(c.Config) == 0 || string(c.Config) == "null" {
		c.Config = json.RawMessage(`{}`)
	}
	var obj map[string]any
	if err := json.Unmarshal(c.Config, &obj); err != nil {
		return sb.Invalidf(op, "config", "config must be a JSON object")
	}
	if c.Tickets.Enabled && (c.Tickets.Pipeline == "" || c.Tickets.Stage == "") {
		return sb.Invalidf(op, "tickets", "tickets need a pipeline and a stage when enabled")
	}
	if !ruleChanged {
		return nil
	}
	if err := cfg.checkRule(op, c, inbox); err != nil {
		return err
	}
	if c.Routing.Enabled {
		if me := cfg.users[a.UserID]; me == nil || !me.PaidSeat {
			return sb.E(op, sb.RuleViolation, "seat_required", "only a user with a paid seat can switch automatic routing on (R-A2)")
		}
	}
	return nil
}

// checkRule is R-A2 and R-I4 at configuration time: a rule may only name
// seated users and teams with access to the channel's inbox.
func (cfg *accountConfig) checkRule(op string, c *sb.Channel, inbox *sb.Inbox) error {
	r := &c.Routing
	if r.Mode == "" {
		r.Mode = sb.ModeUnassigned
	}
	switch r.Mode {
	case sb.ModeSpecific, sb.ModeContactOwner, sb.ModeUnassigned:
	default:
		return sb.Invalidf(op, "routing.mode", "routing.mode must be specific, contact_owner or unassigned")
	}
	switch r.AtCapacity {
	case "", sb.AtCapacityWaitingMessage, sb.AtCapacityHideLauncher, sb.AtCapacityNothing:
	default:
		return sb.Invalidf(op, "routing.at_capacity", "routing.at_capacity must be waiting_message, hide_launcher or none")
	}
	if r.ReplyTimerMinutes < 0 || r.ReplyTimerMinutes > maxReplyTimerMinutes {
		return sb.Invalidf(op, "routing.reply_timer_minutes", "routing.reply_timer_minutes must be between 0 (off) and %d (a week)", maxReplyTimerMinutes)
	}
	r.UserIDs, r.TeamIDs = dedupe(r.UserIDs), dedupe(r.TeamIDs)
	if r.Enabled && r.Mode == sb.ModeSpecific && len(r.UserIDs)+len(r.TeamIDs) == 0 {
		return sb.Invalidf(op, "routing.user_ids", "specific routing needs at least one user or team")
	}
	if err := cfg.checkTargets(op, "routing", r.UserIDs, r.TeamIDs, inbox); err != nil {
		return err
	}
	f := &r.Fallback
	if f.Mode == "" {
		f.Mode = sb.FallbackNone
	}
	switch f.Mode {
	case sb.FallbackNone:
	case sb.FallbackUser:
		if f.UserID == "" {
			return sb.Invalidf(op, "routing.fallback.user_id", "a fallback user is required for fallback mode user")
		}
		return cfg.checkTargets(op, "routing.fallback", []string{f.UserID}, nil, inbox)
	case sb.FallbackSpecific:
		f.UserIDs, f.TeamIDs = dedupe(f.UserIDs), dedupe(f.TeamIDs)
		return cfg.checkTargets(op, "routing.fallback", f.UserIDs, f.TeamIDs, inbox)
	default:
		return sb.Invalidf(op, "routing.fallback.mode", "routing.fallback.mode must be user, specific or none")
	}
	return nil
}

func (cfg *accountConfig) checkTargets(op, field string, userIDs, teamIDs []string, inbox *sb.Inbox) error {
	for _, id := range userIDs {
		u, ok := cfg.users[id]
		if !ok {
			return sb.Invalidf(op, field+".user_ids", "user %q is not in this account", id)
		}
		if !u.PaidSeat {
			return &sb.Error{Op: op, Kind: sb.RuleViolation, Code: "user_without_seat", Field: field + ".user_ids",
				Message: fmt.Sprintf("%s has no paid seat, and only users with a paid seat can be named in routing rules (R-A2)", u.Name)}
		}
		if !routing.InboxAccess(inbox, cfg.teams, id) {
			return &sb.Error{Op: op, Kind: sb.RuleViolation, Code: "user_without_inbox_access", Field: field + ".user_ids",
				Message: fmt.Sprintf("%s is not in any team with access to inbox %q, so they cannot be routed its conversations", u.Name, inbox.Name)}
		}
	}
	for _, id := range teamIDs {
		t, ok := cfg.teams[id]
		if !ok {
			return sb.Invalidf(op, field+".team_ids", "team %q is not in this account", id)
		}
		if len(inbox.TeamIDs) > 0 && !slices.Contains(inbox.TeamIDs, id) {
			return &sb.Error{Op: op, Kind: sb.RuleViolation, Code: "team_without_inbox_access", Field: field + ".team_ids",
				Message: fmt.Sprintf("team %q has no access to inbox %q; give it access first", t.Name, inbox.Name)}
		}
	}
	return nil
}

// channelView adds R-A2's warnings: named users who are no longer eligible.
func (cfg *accountConfig) channelView(c *sb.Channel) *ChannelView {
	shown := *c
	shown.Config = redactConfig(c.Config) // secrets are write-only
	v := &ChannelView{Channel: &shown, RoutingWarnings: []string{}}
	named := append(append([]string{}, c.Routing.UserIDs...), c.Routing.Fallback.UserIDs...)
	if c.Routing.Fallback.UserID != "" {
		named = append(named, c.Routing.Fallback.UserID)
	}
	for _, id := range named {
		u, ok := cfg.users[id]
		switch {
		case !ok:
			v.RoutingWarnings = append(v.RoutingWarnings, fmt.Sprintf("the rule names user %s, who no longer exists; they are skipped", id))
		case !u.PaidSeat:
			v.RoutingWarnings = append(v.RoutingWarnings, fmt.Sprintf("the rule names %s, who no longer has a paid seat; they are skipped (R-A2)", u.Name))
		}
	}
	return v
}
