package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	sb "github.com/switchboard-dev/switchboard"
)

// maxBody bounds a message body (bytes).
const maxBody = 64 << 10

// ListConversations is R-M5's views: unassigned, mine, open (the default)
// and closed, optionally narrowed to an inbox or a team, newest activity
// first, only from inboxes the actor may see (R-I4).
func (s *Service) ListConversations(ctx context.Context, a Actor, q ListQuery) (*Page[*sb.Conversation], error) {
	const op = "app.ListConversations"
	f := sb.ConversationFilter{AccountID: a.AccountID, Limit: clampLimit(q.Limit) + 1, InboxID: q.InboxID}
	switch q.View {
	case ViewUnassigned:
		f.Status, f.Unassigned = sb.StatusOpen, true
	case ViewMine:
		f.Status, f.AssigneeID = sb.StatusOpen, a.UserID
	case ViewOpen, "":
		f.Status = sb.StatusOpen
	case ViewClosed:
		f.Status = sb.StatusClosed
	default:
		return nil, sb.Invalidf(op, "view", "view must be unassigned, mine, open or closed")
	}
	if q.Cursor != "" {
		t, id, ok := decodeCursor(q.Cursor)
		if !ok {
			return nil, sb.Invalidf(op, "cursor", "cursor is not one this server gave out")
		}
		f.AfterActivity, f.AfterID = t, id
	}
	var cs []*sb.Conversation
	err := s.store.View(ctx, func(tx sb.Tx) error {
		cfg, err := loadAccountConfig(ctx, tx, a.AccountID)
		if err != nil {
			return err
		}
		f.InboxIDs = []string{}
		for id, in := range cfg.inboxes {
			if canSeeInbox(a, in, cfg.teams) {
				f.InboxIDs = append(f.InboxIDs, id)
			}
		}
		if q.InboxID != "" {
			if in, ok := cfg.inboxes[q.InboxID]; !ok || !canSeeInbox(a, in, cfg.teams) {
				return sb.E(op, sb.NotFound, "inbox_not_found", "no such inbox")
			}
		}
		if q.TeamID != "" {
			t, ok := cfg.teams[q.TeamID]
			if !ok {
				return sb.E(op, sb.NotFound, "team_not_found", "no such team")
			}
			f.TeamID = t.ID
			f.TeamMemberIDs = append(append([]string{}, t.MainMemberIDs...), t.ExtraMemberIDs...)
		}
		cs, err = tx.Conversations(ctx, f)
		return err
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	p := &Page[*sb.Conversation]{Items: cs}
	if n := f.Limit - 1; len(cs) > n {
		p.Items = cs[:n]
		last := cs[n-1]
		p.NextCursor = encodeCursor(last.LastActivityAt, last.ID)
	}
	return p, nil
}

func encodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixMicro(), 10) + "." + id))
}

func decodeCursor(c string) (time.Time, string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", false
	}
	ts, id, ok := strings.Cut(string(b), ".")
	n, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", false
	}
	return time.UnixMicro(n).UTC(), id, true
}

// visibleConversation loads a conversation the actor may see (NotFound
// otherwise, R-I4) together with the account's configuration.
func visibleConversation(ctx context.Context, tx sb.Tx, op string, a Actor, id string) (*sb.Conversation, *accountConfig, error) {
	c, err := tx.Conversation(ctx, a.AccountID, id)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := loadAccountConfig(ctx, tx, a.AccountID)
	if err != nil {
		return nil, nil, err
	}
	in, ok := cfg.inboxes[c.InboxID]
	if !ok {
		return nil, nil, sb.E(op, sb.NotFound, "not_found", "no such conversation")
	}
	if err := requireConversation(op, a, in, cfg.teams); err != nil {
		return nil, nil, err
	}
	return c, cfg, nil
}

// GetConversation returns a conversation the actor may see.
func (s *Service) GetConversation(ctx context.Context, a Actor, id string) (*sb.Conversation, error) {
	const op = "app.GetConversation"
	var c *sb.Conversation
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		c, _, err = visibleConversation(ctx, tx, op, a, id)
		return err
	})
	return c, sb.Wrap(op, err)
}

// Messages returns a visible conversation's thread, oldest first.
func (s *Service) Messages(ctx context.Context, a Actor, id string) ([]*sb.Message, error) {
	const op = "app.Messages"
	var ms []*sb.Message
	err := s.store.View(ctx, func(tx sb.Tx) error {
		if _, _, err := visibleConversation(ctx, tx, op, a, id); err != nil {
			return err
		}
		var err error
		ms, err = tx.Messages(ctx, a.AccountID, id)
		return err
	})
	return ms, sb.Wrap(op, err)
}

// RoutingRecord returns a conversation's routing decisions, oldest first (R-A12).
func (s *Service) RoutingRecord(ctx context.Context, a Actor, id string) ([]*sb.Decision, error) {
	const op = "app.RoutingRecord"
	var ds []*sb.Decision
	err := s.store.View(ctx, func(tx sb.Tx) error {
		if _, _, err := visibleConversation(ctx, tx, op, a, id); err != nil {
			return err
		}
		var err error
		ds, err = tx.Decisions(ctx, a.AccountID, id)
		return err
	})
	return ds, sb.Wrap(op, err)
}

// Reply adds a reply or an internal note. A reply (not a note) to a
// conversation without an assignee assigns it to the replier in the same
// transaction (R-M3).
func (s *Service) Reply(ctx context.Context, a Actor, id string, in ReplyInput) (*ReplyResult, error) {
	const op = "app.Reply"
	if err := validateBody(op, in.Body); err != nil {
		return nil, err
	}
	var res ReplyResult
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		c, cfg, err := visibleConversation(ctx, tx, op, a, id)
		if err != nil {
			return err
		}
		now := s.Now()
		m := &sb.Message{ID: s.newID(), AccountID: a.AccountID, ConversationID: c.ID, ChannelID: c.ChannelID, Direction: sb.DirectionOut, AuthorUserID: a.UserID, Body: in.Body, CreatedAt: now}
		if in.Internal {
			m.Direction = sb.DirectionNote
		}
		var send *sb.Job
		if !in.Internal {
			if send, err = s.checkOutbound(ctx, tx, c, m, now); err != nil {
				return err
			}
		}
		if !in.Internal && c.AssigneeID == "" {
			d := s.manualDecision(c, a, sb.TriggerReplyAssign, a.UserID, fmt.Sprintf("%s replied to it while it was unassigned, which assigns it to them.", userName(cfg, a.UserID)))
			if err := s.assign(ctx, tx, c, a.UserID, c.TeamID, d); err != nil {
				return err
			}
		}
		if err := tx.CreateMessage(ctx, m); err != nil {
			return err
		}
		if send != nil {
			if err := s.Enqueue(ctx, tx, send); err != nil {
				return err
			}
		}
		if !in.Internal {
			c.LastActivityAt, c.Preview = now, preview(in.Body)
			if err := tx.UpdateConversation(ctx, c); err != nil {
				return err
			}
		}
		res = ReplyResult{Message: m, Conversation: c}
		return s.event(ctx, tx, c, sb.EventMessageCreated, m)
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return &res, nil
}

// checkOutbound applies the channel kind's Outbound to a reply: its Check
// may refuse it; its JobKind makes the job that sends it (returned, to be
// enqueued once the message is stored) and marks the message queued.
func (s *Service) checkOutbound(ctx context.Context, tx sb.Tx, c *sb.Conversation, m *sb.Message, now time.Time) (*sb.Job, error) {
	o, ok := s.outboundFor(c.ChannelKind)
	if !ok || (o.Check == nil && o.JobKind == "") {
		return nil, nil
	}
	ch, err := tx.Channel(ctx, c.AccountID, c.ChannelID)
	if err != nil {
		return nil, err
	}
	if o.Check != nil {
		if err := o.Check(ctx, tx, ch, c, now); err != nil {
			return nil, err
		}
	}
	if o.JobKind == "" {
		return nil, nil
	}
	payload, err := json.Marshal(SendPayload{MessageID: m.ID, ConversationID: c.ID, ChannelID: ch.ID})
	if err != nil {
		return nil, err
	}
	m.Delivery = sb.DeliveryQueued
	return &sb.Job{AccountID: c.AccountID, Kind: o.JobKind, Key: m.ID, Payload: payload}, nil
}

func validateBody(op, body string) error {
	switch {
	case strings.TrimSpace(body) == "":
		return sb.Invalidf(op, "body", "body is required")
	case len(body) > maxBody:
		return &sb.Error{Op: op, Kind: sb.TooLarge, Code: "body_too_large", Field: "body", Message: fmt.Sprintf("body is larger than %d KiB", maxBody>>10)}
	case !utf8.ValidString(body):
		return sb.Invalidf(op, "body", "body must be UTF-8 text")
	}
	return nil
}

// preview is the first line-ish of a body for conversation lists.
func preview(body string) string {
	p := strings.Join(strings.Fields(body), " ")
	if utf8.RuneCountInString(p) > 140 {
		r := []rune(p)
		p = string(r[:140]) + "…"
	}
	return p
}

// Assign is manual (re)assignment: to a user ("me" for oneself), to a team,
// or to nobody (R-M2, R-M4); targets are limited to users with access to
// the inbox and teams allowed by it (R-I4).
func (s *Service) Assign(ctx context.Context, a Actor, id string, in AssignInput) (*sb.Conversation, error) {
	const op = "app.Assign"
	var out *sb.Conversation
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		c, cfg, err := visibleConversation(ctx, tx, op, a, id)
		if err != nil {
			return err
		}
		userID, teamID, err := resolveAssignTarget(op, a, cfg, c, in)
		if err != nil {
			return err
		}
		if err := checkAssign(op, a, c, userID); err != nil {
			return err
		}
		reason := fmt.Sprintf("%s unassigned it.", userName(cfg, a.UserID))
		switch {
		case userID != "":
			reason = fmt.Sprintf("%s assigned it to %s.", userName(cfg, a.UserID), userName(cfg, userID))
		case teamID != "":
			reason = fmt.Sprintf("%s assigned it to team %s.", userName(cfg, a.UserID), cfg.teams[teamID].Name)
		}
		old := c.AssigneeID
		if err := s.assign(ctx, tx, c, userID, teamID, s.manualDecision(c, a, sb.TriggerManual, userID, reason)); err != nil {
			return err
		}
		out = c
		if old != "" && old != userID {
			return s.drainTo(ctx, tx, a.AccountID, old)
		}
		return nil
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return out, nil
}

// resolveAssignTarget turns the request into a user or team id, checking
// R-I4: only users and teams with access to the conversation's inbox.
func resolveAssignTarget(op string, a Actor, cfg *accountConfig, c *sb.Conversation, in AssignInput) (userID, teamID string, err error) {
	inbox := cfg.inboxes[c.InboxID]
	switch {
	case in.UserID != nil && *in.UserID != "" && in.TeamID != nil && *in.TeamID != "":
		return "", "", sb.Invalidf(op, "user_id", "give user_id or team_id, not both")
	case in.UserID != nil && *in.UserID != "":
		userID = *in.UserID
		if userID == "me" {
			userID = a.UserID
		}
		if _, ok := cfg.users[userID]; !ok {
			return "", "", sb.Invalidf(op, "user_id", "user %q is not in this account", userID)
		}
		if !canSeeInbox(Actor{UserID: userID}, inbox, cfg.teams) {
			return "", "", &sb.Error{Op: op, Kind: sb.RuleViolation, Code: "no_inbox_access", Field: "user_id",
				Message: fmt.Sprintf("%s has no access to inbox %q; only members of its teams can be assigned (R-I4)", cfg.users[userID].Name, inbox.Name)}
		}
	case in.TeamID != nil && *in.TeamID != "":
		teamID = *in.TeamID
		if _, ok := cfg.teams[teamID]; !ok {
			return "", "", sb.Invalidf(op, "team_id", "team %q is not in this account", teamID)
		}
		if len(inbox.TeamIDs) > 0 && !slices.Contains(inbox.TeamIDs, teamID) {
			return "", "", &sb.Error{Op: op, Kind: sb.RuleViolation, Code: "no_inbox_access", Field: "team_id",
				Message: fmt.Sprintf("team %q has no access to inbox %q (R-I4)", cfg.teams[teamID].Name, inbox.Name)}
		}
	}
	return userID, teamID, nil
}

// SetOpen closes (open=false) or reopens a conversation. Closing frees the
// assignee's capacity, which drains the backlog to them (R-X2).
func (s *Service) SetOpen(ctx context.Context, a Actor, id string, open bool) (*sb.Conversation, error) {
	const op = "app.SetOpen"
	var out *sb.Conversation
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		c, _, err := visibleConversation(ctx, tx, op, a, id)
		if err != nil {
			return err
		}
		want := sb.StatusClosed
		if open {
			want = sb.StatusOpen
		}
		out = c
		if c.Status == want {
			return nil
		}
		if err := s.setStatus(ctx, tx, c, want); err != nil {
			return err
		}
		if !open && c.AssigneeID != "" {
			return s.drainTo(ctx, tx, a.AccountID, c.AssigneeID)
		}
		return nil
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return out, nil
}

// setStatus opens or closes c, keeping its assignee's load right.
func (s *Service) setStatus(ctx context.Context, tx sb.Tx, c *sb.Conversation, status string) error {
	now := s.Now()
	c.Status = status
	delta := 1
	if status == sb.StatusClosed {
		c.ClosedAt, c.Waiting, delta = now, false, -1
	} else {
		c.ClosedAt = time.Time{}
	}
	if c.AssigneeID != "" && c.ChannelKind.ChatLike() {
		if err := tx.AddLoad(ctx, c.AccountID, c.AssigneeID, delta, time.Time{}); err != nil {
			return err
		}
	}
	if err := tx.UpdateConversation(ctx, c); err != nil {
		return err
	}
	return s.event(ctx, tx, c, sb.EventConversationStatus, c)
}

// assign gives c to userID and/or teamID, keeps loads right (chat-like open
// conversations count towards the load, R-A9/R-A10), writes the decision
// record (R-A12) and the event.
func (s *Service) assign(ctx context.Context, tx sb.Tx, c *sb.Conversation, userID, teamID string, d *sb.Decision) error {
	now := s.Now()
	if c.Status == sb.StatusOpen && c.ChannelKind.ChatLike() && c.AssigneeID != userID {
		if c.AssigneeID != "" {
			if err := tx.AddLoad(ctx, c.AccountID, c.AssigneeID, -1, time.Time{}); err != nil {
				return err
			}
		}
		if userID != "" {
			if err := tx.AddLoad(ctx, c.AccountID, userID, 1, now); err != nil {
				return err
			}
		}
	}
	changed := c.AssigneeID != userID || c.TeamID != teamID
	c.AssigneeID, c.TeamID, c.Waiting = userID, teamID, false
	if err := tx.UpdateConversation(ctx, c); err != nil {
		return err
	}
	if d != nil {
		if err := tx.CreateDecision(ctx, d); err != nil {
			return err
		}
	}
	if !changed {
		return nil
	}
	return s.event(ctx, tx, c, sb.EventConversationAssigned, c)
}

// manualDecision is the R-A12 record of a person's assignment.
func (s *Service) manualDecision(c *sb.Conversation, a Actor, trigger, userID, reason string) *sb.Decision {
	d := &sb.Decision{ID: s.newID(), AccountID: c.AccountID, ConversationID: c.ID, Trigger: trigger, Mode: "manual", Strategy: "manual",
		Candidates: []sb.Candidate{}, Outcome: sb.OutcomeUnassigned, AssigneeID: userID, Reason: reason, ActorUserID: a.UserID, CreatedAt: s.Now()}
	if userID != "" {
		d.Outcome = sb.OutcomeAssigned
	}
	return d
}

// event appends an event about conversation c with payload v.
func (s *Service) event(ctx context.Context, tx sb.Tx, c *sb.Conversation, typ string, v any) error {
	e, err := conversationEvent(c, typ, v, s.Now())
	if err != nil {
		return err
	}
	return tx.AppendEvent(ctx, e)
}

// conversationEvent builds an event about c whose data is v as it is now.
func conversationEvent(c *sb.Conversation, typ string, v any, now time.Time) (*sb.Event, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &sb.Event{AccountID: c.AccountID, Type: typ, InboxID: c.InboxID, ConversationID: c.ID, UserID: c.AssigneeID, Data: data, CreatedAt: now}, nil
}

func userName(cfg *accountConfig, id string) string {
	if u, ok := cfg.users[id]; ok && u.Name != "" {
		return u.Name
	}
	return id
}
