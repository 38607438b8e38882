package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	sb "github.com/switchboard-dev/switchboard"
)

// Tickets (R-T1 … R-T4): a ticket tracks a piece of work through a
// pipeline's stages. Channels that "treat incoming conversations as
// tickets" create one with each new conversation, in the routing batch's
// transaction (ticketbatch.go); people create and move them through the API.

// Ticket limits.
const (
	// DefaultContactTicketLimit is R-T3's association limit when the
	// account has not set one.
	DefaultContactTicketLimit = 100
	maxContactTicketLimit     = 100000
	maxTicketName             = 255
	maxTicketDescription      = 64 << 10
)

// TicketInput creates a ticket. Pipeline and stage are ids or names
// (empty: the first pipeline, its first stage). ConversationID links the
// ticket to a conversation the caller may see; ContactID then defaults to
// its contact and OwnerID to its assignee. An OwnerID given here counts as
// set manually (R-T2).
type TicketInput struct {
	Name           string `json:"name"`
	Description    string `json:"description"`
	PipelineID     string `json:"pipeline_id"`
	StageID        string `json:"stage_id"`
	OwnerID        string `json:"owner_id"`
	ContactID      string `json:"contact_id"`
	ConversationID string `json:"conversation_id"`
}

// TicketPatch changes the fields that are set. OwnerID (""= no owner) sets
// the owner manually: it no longer follows the conversation (R-T2).
// PipelineID moves the ticket to another pipeline, to StageID or that
// pipeline's first stage.
type TicketPatch struct {
	Name        *string        `json:"name,omitempty"`
	Description *string        `json:"description,omitempty"`
	OwnerID     OptionalString `json:"owner_id"`
	PipelineID  *string        `json:"pipeline_id,omitempty"`
	StageID     *string        `json:"stage_id,omitempty"`
}

// OptionalString is a string patch field that tells absent from null: Set is
// true when the field was given, null included (then Value is "").
type OptionalString struct {
	Set   bool
	Value string
}

// SetString returns an OptionalString set to v.
func SetString(v string) OptionalString { return OptionalString{Set: true, Value: v} }

// UnmarshalJSON implements json.Unmarshaler; it runs only for a present
// field.
func (o *OptionalString) UnmarshalJSON(b []byte) error {
	o.Set, o.Value = true, ""
	if string(b) == "null" {
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// TicketQuery selects a page of tickets. OwnerID "me" is the caller.
type TicketQuery struct {
	PipelineID     string
	StageID        string
	OwnerID        string
	ContactID      string
	ConversationID string
	Cursor         string
	Limit          int
}

// TicketSettingsPatch changes the account's ticket settings.
type TicketSettingsPatch struct {
	ContactLimit *int `json:"contact_limit,omitempty"`
}

// contactLimit returns R-T3's limit of the account.
func contactLimit(ctx context.Context, tx sb.Tx, accountID string) (int, error) {
	l, err := tx.TicketLimits(ctx, accountID)
	if sb.IsKind(err, sb.NotFound) {
		return DefaultContactTicketLimit, nil
	}
	if err != nil {
		return 0, err
	}
	return l.ContactLimit, nil
}

// ticketEvent builds an event about ticket k: visible where its
// conversation is (R-I4), account-wide without one.
func ticketEvent(k *sb.Ticket, typ string, now time.Time) (*sb.Event, error) {
	data, err := json.Marshal(k)
	if err != nil {
		return nil, err
	}
	return &sb.Event{AccountID: k.AccountID, Type: typ, InboxID: k.InboxID, ConversationID: k.ConversationID, UserID: k.OwnerID, Data: data, CreatedAt: now}, nil
}

func (s *Service) appendTicketEvent(ctx context.Context, tx sb.Tx, k *sb.Ticket, typ string) error {
	e, err := ticketEvent(k, typ, s.Now())
	if err != nil {
		return err
	}
	return tx.AppendEvent(ctx, e)
}

// ticketFollowsAssignee is R-T2 for an assignment outside the routing
// batch (manual, R-M3's reply, backlog drain): the conversation's ticket
// gets the new assignee as owner if it has none and nobody set one.
func (s *Service) ticketFollowsAssignee(ctx context.Context, tx sb.Tx, c *sb.Conversation) error {
	if c.TicketID == "" || c.AssigneeID == "" {
		return nil
	}
	changed, err := tx.FollowAssignees(ctx, c.AccountID, []sb.TicketOwner{{TicketID: c.TicketID, OwnerID: c.AssigneeID}}, s.Now())
	for _, k := range changed {
		if err == nil {
			err = s.appendTicketEvent(ctx, tx, k, sb.EventTicketUpdated)
		}
	}
	return err
}

// ListTickets returns tickets newest first, only those the actor may see
// (R-I4: tickets of conversations in inboxes they see, and tickets without
// a conversation; admins see all).
func (s *Service) ListTickets(ctx context.Context, a Actor, q TicketQuery) (*Page[*sb.Ticket], error) {
	const op = "app.ListTickets"
	f := sb.TicketFilter{AccountID: a.AccountID, PipelineID: q.PipelineID, StageID: q.StageID, OwnerID: q.OwnerID,
		ContactID: q.ContactID, ConversationID: q.ConversationID, Limit: clampLimit(q.Limit) + 1}
	if f.OwnerID == "me" {
		f.OwnerID = a.UserID
	}
	if q.Cursor != "" {
		t, id, ok := decodeCursor(q.Cursor)
		if !ok {
			return nil, sb.Invalidf(op, "cursor", "cursor is not one this server gave out")
		}
		f.AfterCreated, f.AfterID = t, id
	}
	var ks []*sb.Ticket
	err := s.store.View(ctx, func(tx sb.Tx) error {
		if !a.IsAdmin() {
			cfg, err := loadAccountConfig(ctx, tx, a.AccountID)
			if err != nil {
				return err
			}
			f.InboxIDs = visibleInboxIDs(a, cfg)
		}
		var err error
		ks, err = tx.Tickets(ctx, f)
		return err
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	p := &Page[*sb.Ticket]{Items: ks}
	if n := f.Limit - 1; len(ks) > n {
		p.Items = ks[:n]
		last := ks[n-1]
		p.NextCursor = encodeCursor(last.CreatedAt, last.ID)
	}
	return p, nil
}

// visibleInboxIDs lists the inboxes the actor may see (R-I4).
func visibleInboxIDs(a Actor, cfg *accountConfig) []string {
	ids := []string{}
	for id, in := range cfg.inboxes {
		if canSeeInbox(a, in, cfg.teams) {
			ids = append(ids, id)
		}
	}
	return ids
}

// visibleTicket loads a ticket the actor may see; NotFound otherwise.
func visibleTicket(ctx context.Context, tx sb.Tx, op string, a Actor, id string) (*sb.Ticket, *accountConfig, error) {
	k, err := tx.Ticket(ctx, a.AccountID, id)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := loadAccountConfig(ctx, tx, a.AccountID)
	if err != nil {
		return nil, nil, err
	}
	if err := requireTicket(op, a, k, cfg.inboxes, cfg.teams); err != nil {
		return nil, nil, err
	}
	return k, cfg, nil
}

// GetTicket returns a ticket the actor may see.
func (s *Service) GetTicket(ctx context.Context, a Actor, id string) (*sb.Ticket, error) {
	const op = "app.GetTicket"
	var k *sb.Ticket
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		k, _, err = visibleTicket(ctx, tx, op, a, id)
		return err
	})
	return k, sb.Wrap(op, err)
}

// CreateTicket creates a ticket by hand. With a conversation, the ticket
// is linked to it (conversation.ticket_id), once; R-T3's limit refuses a
// ticket for a contact that has reached it.
func (s *Service) CreateTicket(ctx context.Context, a Actor, in TicketInput) (*sb.Ticket, error) {
	const op = "app.CreateTicket"
	now := s.Now()
	k := &sb.Ticket{ID: s.newID(), AccountID: a.AccountID, Name: strings.TrimSpace(in.Name), Description: in.Description,
		OwnerID: in.OwnerID, OwnerSetManually: in.OwnerID != "", ContactID: in.ContactID, CreatedAt: now, UpdatedAt: now}
	if err := validateTicket(op, k); err != nil {
		return nil, err
	}
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		cfg, err := loadAccountConfig(ctx, tx, a.AccountID)
		if err != nil {
			return err
		}
		ps, err := s.ensurePipelines(ctx, tx, a.AccountID)
		if err != nil {
			return err
		}
		if err := placeTicket(op, k, ps, in.PipelineID, in.StageID); err != nil {
			return err
		}
		var c *sb.Conversation
		if in.ConversationID != "" {
			if c, err = s.ticketConversation(ctx, tx, op, a, k, in.ConversationID); err != nil {
				return err
			}
		}
		if err := checkTicketOwner(op, cfg, k.OwnerID); err != nil {
			return err
		}
		if err := checkTicketContact(ctx, tx, op, k); err != nil {
			return err
		}
		if err := tx.CreateTickets(ctx, []*sb.Ticket{k}); err != nil {
			return err
		}
		if c != nil {
			c.TicketID = k.ID
			if err := tx.UpdateConversation(ctx, c); err != nil {
				return err
			}
		}
		return s.appendTicketEvent(ctx, tx, k, sb.EventTicketCreated)
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return k, nil
}

// ticketConversation checks that the new ticket k may be linked to the
// conversation: visible to the actor, without a ticket yet. It fills in
// the contact, the owner (the assignee, R-T2) and the inbox.
func (s *Service) ticketConversation(ctx context.Context, tx sb.Tx, op string, a Actor, k *sb.Ticket, id string) (*sb.Conversation, error) {
	c, _, err := visibleConversation(ctx, tx, op, a, id)
	if sb.IsKind(err, sb.NotFound) {
		return nil, &sb.Error{Op: op, Kind: sb.Invalid, Code: "invalid_conversation_id", Field: "conversation_id", Message: "no such conversation"}
	}
	if err != nil {
		return nil, err
	}
	if c.TicketID != "" {
		return nil, &sb.Error{Op: op, Kind: sb.Conflict, Code: "conversation_has_ticket", Field: "conversation_id",
			Message: fmt.Sprintf("the conversation already has ticket %s", c.TicketID)}
	}
	if k.ContactID == "" {
		k.ContactID = c.ContactID
	}
	if !k.OwnerSetManually {
		k.OwnerID = c.AssigneeID
	}
	k.ConversationID, k.InboxID = c.ID, c.InboxID
	return c, nil
}

// checkTicketContact checks the contact exists and is under R-T3's limit.
func checkTicketContact(ctx context.Context, tx sb.Tx, op string, k *sb.Ticket) error {
	if k.ContactID == "" {
		return nil
	}
	if _, err := tx.Contact(ctx, k.AccountID, k.ContactID); sb.IsKind(err, sb.NotFound) {
		return sb.Invalidf(op, "contact_id", "contact %q is not in this account", k.ContactID)
	} else if err != nil {
		return err
	}
	limit, err := contactLimit(ctx, tx, k.AccountID)
	if err != nil {
		return err
	}
	counts, err := tx.ContactTicketCounts(ctx, k.AccountID, []string{k.ContactID})
	if err != nil {
		return err
	}
	if counts[k.ContactID] >= limit {
		return &sb.Error{Op: op, Kind: sb.RuleViolation, Code: "ticket_limit_reached", Field: "contact_id",
			Message: fmt.Sprintf("the contact already has %d tickets, the account's limit (R-T3)", counts[k.ContactID])}
	}
	return nil
}

func checkTicketOwner(op string, cfg *accountConfig, ownerID string) error {
	if _, ok := cfg.users[ownerID]; ownerID != "" && !ok {
		return sb.Invalidf(op, "owner_id", "user %q is not in this account", ownerID)
	}
	return nil
}

// placeTicket sets k's pipeline and stage from references given by a
// person: unlike channel settings, an unknown one is an error.
func placeTicket(op string, k *sb.Ticket, ps []*sb.Pipeline, pipelineRef, stageRef string) error {
	p := ps[0]
	if pipelineRef != "" {
		if p = findPipeline(ps, pipelineRef); p == nil {
			return sb.Invalidf(op, "pipeline_id", "no pipeline %q in this account", pipelineRef)
		}
	}
	st := p.Stages[0]
	if stageRef != "" {
		var ok bool
		if st, ok = findStage(p, stageRef); !ok {
			return sb.Invalidf(op, "stage_id", "pipeline %q has no stage %q", p.Name, stageRef)
		}
	}
	k.PipelineID, k.StageID = p.ID, st.ID
	return nil
}

func validateTicket(op string, k *sb.Ticket) error {
	switch {
	case k.Name == "":
		return sb.Invalidf(op, "name", "name is required")
	case utf8.RuneCountInString(k.Name) > maxTicketName:
		return sb.Invalidf(op, "name", "name is longer than %d characters", maxTicketName)
	case len(k.Description) > maxTicketDescription:
		return &sb.Error{Op: op, Kind: sb.TooLarge, Code: "description_too_large", Field: "description",
			Message: fmt.Sprintf("description is larger than %d KiB", maxTicketDescription>>10)}
	case !utf8.ValidString(k.Name + k.Description):
		return sb.Invalidf(op, "description", "name and description must be UTF-8 text")
	}
	return nil
}

// UpdateTicket renames, describes, moves (stage, pipeline) or re-owns a
// ticket the actor may see. Setting the owner marks it set manually, so it
// no longer follows the conversation's assignee (R-T2).
func (s *Service) UpdateTicket(ctx context.Context, a Actor, id string, p TicketPatch) (*sb.Ticket, error) {
	const op = "app.UpdateTicket"
	var k *sb.Ticket
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		var cfg *accountConfig
		var err error
		if k, cfg, err = visibleTicket(ctx, tx, op, a, id); err != nil {
			return err
		}
		if p.Name != nil {
			k.Name = strings.TrimSpace(*p.Name)
		}
		if p.Description != nil {
			k.Description = *p.Description
		}
		if err := validateTicket(op, k); err != nil {
			return err
		}
		if p.OwnerID.Set {
			if err := checkTicketOwner(op, cfg, p.OwnerID.Value); err != nil {
				return err
			}
			k.OwnerID, k.OwnerSetManually = p.OwnerID.Value, true
		}
		if err := s.moveTicket(ctx, tx, op, k, p); err != nil {
			return err
		}
		k.UpdatedAt = s.Now()
		if err := tx.UpdateTicket(ctx, k); err != nil {
			return err
		}
		return s.appendTicketEvent(ctx, tx, k, sb.EventTicketUpdated)
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return k, nil
}

// moveTicket applies a patch's pipeline and stage.
func (s *Service) moveTicket(ctx context.Context, tx sb.Tx, op string, k *sb.Ticket, p TicketPatch) error {
	if p.PipelineID == nil && p.StageID == nil {
		return nil
	}
	ps, err := tx.Pipelines(ctx, k.AccountID)
	if err != nil {
		return err
	}
	pipelineRef, stageRef := k.PipelineID, ""
	if p.PipelineID != nil {
		pipelineRef = *p.PipelineID
	}
	if p.StageID != nil {
		stageRef = *p.StageID
	}
	if pipelineRef == "" {
		return sb.Invalidf(op, "pipeline_id", "pipeline_id cannot be empty")
	}
	return placeTicket(op, k, ps, pipelineRef, stageRef)
}

// TicketSettings returns the account's ticket settings (R-T3's limit).
func (s *Service) TicketSettings(ctx context.Context, a Actor) (*sb.TicketLimits, error) {
	const op = "app.TicketSettings"
	l := &sb.TicketLimits{AccountID: a.AccountID}
	err := s.store.View(ctx, func(tx sb.Tx) error {
		got, err := tx.TicketLimits(ctx, a.AccountID)
		if sb.IsKind(err, sb.NotFound) {
			l.ContactLimit = DefaultContactTicketLimit
			return nil
		}
		if err == nil {
			l = got
		}
		return err
	})
	return l, sb.Wrap(op, err)
}

// UpdateTicketSettings changes the account's ticket settings. Admins only.
func (s *Service) UpdateTicketSettings(ctx context.Context, a Actor, p TicketSettingsPatch) (*sb.TicketLimits, error) {
	const op = "app.UpdateTicketSettings"
	if err := requirePipelineAdmin(op, a); err != nil {
		return nil, err
	}
	if p.ContactLimit != nil && (*p.ContactLimit < 1 || *p.ContactLimit > maxContactTicketLimit) {
		return nil, sb.Invalidf(op, "contact_limit", "contact_limit must be from 1 to %d", maxContactTicketLimit)
	}
	var l *sb.TicketLimits
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		n, err := contactLimit(ctx, tx, a.AccountID)
		if err != nil {
			return err
		}
		if p.ContactLimit != nil {
			n = *p.ContactLimit
		}
		l = &sb.TicketLimits{AccountID: a.AccountID, ContactLimit: n, UpdatedAt: s.Now()}
		return tx.PutTicketLimits(ctx, l)
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return l, nil
}

// ConversationFlags returns the flags of a conversation the actor may see
// (R-T3's ticket_limit_reached).
func (s *Service) ConversationFlags(ctx context.Context, a Actor, id string) ([]*sb.ConversationFlag, error) {
	const op = "app.ConversationFlags"
	var fs []*sb.ConversationFlag
	err := s.store.View(ctx, func(tx sb.Tx) error {
		if _, _, err := visibleConversation(ctx, tx, op, a, id); err != nil {
			return err
		}
		var err error
		fs, err = tx.ConversationFlags(ctx, a.AccountID, id)
		return err
	})
	return fs, sb.Wrap(op, err)
}
