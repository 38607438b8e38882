package app

import (
	"context"
	"net/mail"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
)

// ListContacts pages through the account's contacts by id.
func (s *Service) ListContacts(ctx context.Context, a Actor, cursor string, limit int) (*Page[*sb.Contact], error) {
	limit = clampLimit(limit)
	var cs []*sb.Contact
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		cs, err = tx.Contacts(ctx, a.AccountID, cursor, limit+1)
		return err
	})
	if err != nil {
		return nil, sb.Wrap("app.ListContacts", err)
	}
	p := &Page[*sb.Contact]{Items: cs}
	if len(cs) > limit {
		p.Items = cs[:limit]
		p.NextCursor = cs[limit-1].ID
	}
	return p, nil
}

// GetContact returns a contact of the actor's account.
func (s *Service) GetContact(ctx context.Context, a Actor, id string) (*sb.Contact, error) {
	var c *sb.Contact
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		c, err = tx.Contact(ctx, a.AccountID, id)
		return err
	})
	return c, sb.Wrap("app.GetContact", err)
}

// CreateContact adds a contact. Conflict if its email or visitor token is
// already another contact's.
func (s *Service) CreateContact(ctx context.Context, a Actor, in ContactInput) (*sb.Contact, error) {
	const op = "app.CreateContact"
	c := &sb.Contact{ID: s.newID(), AccountID: a.AccountID, Email: in.Email, Name: in.Name, Phone: in.Phone, OwnerID: in.OwnerID, VisitorToken: in.VisitorToken, CreatedAt: s.Now()}
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		if err := validateContact(ctx, tx, op, c); err != nil {
			return err
		}
		return tx.CreateContact(ctx, c)
	})
	if sb.IsKind(err, sb.Conflict) {
		return nil, sb.E(op, sb.Conflict, "contact_exists", "another contact already has this email or visitor token")
	}
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return c, nil
}

// UpdateContact changes the fields that are set.
func (s *Service) UpdateContact(ctx context.Context, a Actor, id string, p ContactPatch) (*sb.Contact, error) {
	const op = "app.UpdateContact"
	var c *sb.Contact
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		var err error
		if c, err = tx.Contact(ctx, a.AccountID, id); err != nil {
			return err
		}
		for _, f := range []struct {
			dst *string
			src *string
		}{{&c.Email, p.Email}, {&c.Name, p.Name}, {&c.Phone, p.Phone}, {&c.OwnerID, p.OwnerID}, {&c.VisitorToken, p.VisitorToken}} {
			if f.src != nil {
				*f.dst = *f.src
			}
		}
		if err := validateContact(ctx, tx, op, c); err != nil {
			return err
		}
		return tx.UpdateContact(ctx, c)
	})
	if sb.IsKind(err, sb.Conflict) {
		return nil, sb.E(op, sb.Conflict, "contact_exists", "another contact already has this email or visitor token")
	}
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return c, nil
}

func validateContact(ctx context.Context, tx sb.Tx, op string, c *sb.Contact) error {
	c.Email = normEmail(c.Email)
	c.Name = strings.TrimSpace(c.Name)
	c.Phone = strings.TrimSpace(c.Phone)
	c.VisitorToken = strings.TrimSpace(c.VisitorToken)
	if c.Email != "" {
		if addr, err := mail.ParseAddress(c.Email); err != nil || addr.Address != c.Email {
			return sb.Invalidf(op, "email", "email %q is not a valid email address", c.Email)
		}
	}
	if len(c.VisitorToken) > 200 {
		return sb.Invalidf(op, "visitor_token", "visitor_token is too long (200 characters at most)")
	}
	if c.OwnerID != "" {
		return requireUsers(ctx, tx, op, "owner_id", c.AccountID, []string{c.OwnerID})
	}
	return nil
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 200:
		return 200
	}
	return n
}
