package app

import (
	"context"

	sb "github.com/switchboard-dev/switchboard"
)

// SetPasswordUnchecked sets a user's password without the length rule the
// API enforces. It exists for demo data only (`switchboard serve --demo`
// gives admin@demo.test the short password "demo") and no HTTP route or
// other edge may call it. NotFound if the user is not in the account.
func (s *Service) SetPasswordUnchecked(ctx context.Context, accountID, userID, password string) error {
	const op = "app.SetPasswordUnchecked"
	if password == "" {
		return sb.Invalidf(op, "password", "password is required")
	}
	h, err := hashPassword(s.pw, password)
	if err != nil {
		return sb.Wrap(op, err)
	}
	err = s.update(ctx, accountID, func(tx sb.Tx) error {
		u, err := tx.User(ctx, accountID, userID)
		if err != nil {
			return err
		}
		u.PasswordHash = h
		return tx.UpdateUser(ctx, u)
	})
	return sb.Wrap(op, err)
}
