package app

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	sb "github.com/switchboard-dev/switchboard"
)

// IntegrationToken is an integration token as the API shows it. Secret is
// the bearer token itself, shown once, when it is created.
type IntegrationToken struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	Secret    string    `json:"token,omitempty"`
}

// IntegrationTokenInput names a new integration token.
type IntegrationTokenInput struct {
	Name string `json:"name"`
}

func integrationView(t *sb.Token, secret string) *IntegrationToken {
	return &IntegrationToken{ID: t.ID, Name: t.Name, CreatedBy: t.UserID, CreatedAt: t.CreatedAt, Secret: secret}
}

// CreateIntegrationToken makes a token for a script or another system
// that sends inbound messages (POST /api/v1/channels/{id}/inbound) and can
// do nothing else: it reads no conversation, changes no setting, and its
// requests are nobody's activity. Admins only.
func (s *Service) CreateIntegrationToken(ctx context.Context, a Actor, in IntegrationTokenInput) (*IntegrationToken, error) {
	const op = "app.CreateIntegrationToken"
	if err := requireIntegrationAdmin(op, a); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return nil, sb.Invalidf(op, "name", "name is required: up to 100 characters saying what uses the token")
	}
	var out *IntegrationToken
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		u, err := tx.User(ctx, a.AccountID, a.UserID)
		if err != nil {
			return err
		}
		secret, t, err := s.newToken(ctx, tx, u, name, sb.TokenIntegration)
		if err != nil {
			return err
		}
		out = integrationView(t, secret)
		return nil
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return out, nil
}

// IntegrationTokens lists the account's integration tokens, without their
// secrets. Admins only.
func (s *Service) IntegrationTokens(ctx context.Context, a Actor) ([]*IntegrationToken, error) {
	const op = "app.IntegrationTokens"
	if err := requireIntegrationAdmin(op, a); err != nil {
		return nil, err
	}
	var out []*IntegrationToken
	err := s.store.View(ctx, func(tx sb.Tx) error {
		ts, err := tx.TokensByScope(ctx, a.AccountID, sb.TokenIntegration)
		for _, t := range ts {
			out = append(out, integrationView(t, ""))
		}
		return err
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	if out == nil {
		out = []*IntegrationToken{}
	}
	return out, nil
}

// RevokeIntegrationToken deletes an integration token; it stops working
// once the change commits, on every process (Tx.CredentialsChanged).
// Admins only.
func (s *Service) RevokeIntegrationToken(ctx context.Context, a Actor, id string) error {
	const op = "app.RevokeIntegrationToken"
	if err := requireIntegrationAdmin(op, a); err != nil {
		return err
	}
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		ts, err := tx.TokensByScope(ctx, a.AccountID, sb.TokenIntegration)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if t.ID == id {
				tx.CredentialsChanged(sb.CredentialsChange{TokenHash: t.Hash})
			}
		}
		return tx.DeleteTokenByID(ctx, a.AccountID, id, sb.TokenIntegration)
	})
	return sb.Wrap(op, err)
}
