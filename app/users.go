package app

import (
	"context"
	"encoding/json"
	"net/mail"
	"strings"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// minPasswordLen is the shortest password the API accepts.
const minPasswordLen = 8

func (s *Service) userView(u *sb.User) *UserView {
	st, why := routing.EffectiveStatus(u, s.Now())
	return &UserView{User: u, EffectiveStatus: st, StatusReason: why}
}

// ListUsers lists the account's users. Any user may list them (to assign
// and mention); admins only may change them.
func (s *Service) ListUsers(ctx context.Context, a Actor) ([]*UserView, error) {
	var us []*sb.User
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		us, err = tx.Users(ctx, a.AccountID)
		return err
	})
	if err != nil {
		return nil, sb.Wrap("app.ListUsers", err)
	}
	out := make([]*UserView, len(us))
	for i, u := range us {
		out[i] = s.userView(u)
	}
	return out, nil
}

// GetUser returns one user: oneself, or anyone for admins.
func (s *Service) GetUser(ctx context.Context, a Actor, id string) (*UserView, error) {
	const op = "app.GetUser"
	if err := requireSelfOrAdmin(op, a, id); err != nil {
		return nil, err
	}
	var u *sb.User
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		u, err = tx.User(ctx, a.AccountID, id)
		return err
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return s.userView(u), nil
}

// CreateUser adds a user to the actor's account. Admins only.
func (s *Service) CreateUser(ctx context.Context, a Actor, in UserInput) (*UserView, error) {
	const op = "app.CreateUser"
	if err := requireAdmin(op, a); err != nil {
		return nil, err
	}
	u := &sb.User{
		AccountID: a.AccountID, Email: in.Email, Name: in.Name, Role: in.Role, PaidSeat: in.PaidSeat,
		ChatCapacity: in.ChatCapacity, ManageAvailability: in.ManageAvailability, Status: sb.Available,
		OutOfOffice: in.OutOfOffice, CreatedAt: s.Now(),
	}
	if u.Role == "" {
		u.Role = sb.RoleAgent
	}
	if in.WorkingHours != nil {
		u.WorkingHours = *in.WorkingHours
	}
	if err := s.prepareNewUser(op, u, in.Password); err != nil {
		return nil, err
	}
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		if err := checkPersonalAddress(ctx, tx, op, u.Email); err != nil {
			return err
		}
		return tx.CreateUser(ctx, u)
	})
	if sb.IsKind(err, sb.Conflict) {
		return nil, &sb.Error{Op: op, Kind: sb.Conflict, Code: "email_taken", Field: "email", Message: "a user with this email already exists"}
	}
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return s.userView(u), nil
}

// prepareNewUser validates a new user and hashes their password.
func (s *Service) prepareNewUser(op string, u *sb.User, password string) error {
	u.ID = s.newID()
	if err := validateUser(op, u); err != nil {
		return err
	}
	if len(password) < minPasswordLen {
		return sb.Invalidf(op, "password", "password must have at least %d characters", minPasswordLen)
	}
	h, err := hashPassword(s.pw, password)
	if err != nil {
		return sb.Wrap(op, err)
	}
	u.PasswordHash = h
	return nil
}

// validateUser checks and normalises a user's editable fields.
func validateUser(op string, u *sb.User) error {
	u.Email = normEmail(u.Email)
	u.Name = strings.TrimSpace(u.Name)
	if addr, err := mail.ParseAddress(u.Email); err != nil || addr.Address != u.Email {
		return sb.Invalidf(op, "email", "email %q is not a valid email address", u.Email)
	}
	if u.Name == "" {
		return sb.Invalidf(op, "name", "name is required")
	}
	if u.Role != sb.RoleAdmin && u.Role != sb.RoleAgent {
		return sb.Invalidf(op, "role", "role must be \"admin\" or \"agent\"")
	}
	if u.ChatCapacity < 0 {
		return sb.Invalidf(op, "chat_capacity", "chat_capacity must be 0 (no limit) or more, not %d", u.ChatCapacity)
	}
	if err := validateHours(op, "working_hours", u.WorkingHours.TimeZone, u.WorkingHours.Ranges); err != nil {
		return err
	}
	for _, r := range u.OutOfOffice {
		if !r.To.After(r.From) {
			return sb.Invalidf(op, "out_of_office", "an out-of-office range must end after it starts")
		}
	}
	return nil
}

// validateHours checks weekly ranges and their time zone.
func validateHours(op, field, tz string, ranges []sb.HoursRange) error {
	if _, err := time.LoadLocation(tz); err != nil {
		return sb.Invalidf(op, field, "time zone %q is not a known IANA time zone", tz)
	}
	for _, r := range ranges {
		if r.Day < time.Sunday || r.Day > time.Saturday {
			return sb.Invalidf(op, field, "day must be 0 (Sunday) to 6 (Saturday), not %d", r.Day)
		}
		if r.Start < 0 || r.End > 24*60 || r.Start >= r.End {
			return sb.Invalidf(op, field, "a range needs 0 <= start < end <= 1440 minutes, not %d-%d", r.Start, r.End)
		}
	}
	return nil
}

// UpdateUser changes a user. Admins only. A change that may make the user a
// candidate again (seat, capacity, hours) drains the backlog to them (R-X2).
func (s *Service) UpdateUser(ctx context.Context, a Actor, id string, p UserPatch) (*UserView, error) {
	const op = "app.UpdateUser"
	if err := requireAdmin(op, a); err != nil {
		return nil, err
	}
	// The password is hashed before the account's lock is taken: argon2id
	// takes tens of milliseconds, which routing would otherwise wait.
	var hash string
	if p.Password != nil {
		if len(*p.Password) < minPasswordLen {
			return nil, sb.Invalidf(op, "password", "password must have at least %d characters", minPasswordLen)
		}
		var err error
		if hash, err = hashPassword(s.pw, *p.Password); err != nil {
			return nil, sb.Wrap(op, err)
		}
	}
	var u *sb.User
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		var err error
		if u, err = tx.User(ctx, a.AccountID, id); err != nil {
			return err
		}
		if err := applyUserPatch(u, p); err != nil {
			return err
		}
		if err := validateUser(op, u); err != nil {
			return err
		}
		if p.Email != nil {
			if err := checkPersonalAddress(ctx, tx, op, u.Email); err != nil {
				return err
			}
		}
		if p.Role != nil && *p.Role != sb.RoleAdmin && u.ID == a.UserID {
			return sb.E(op, sb.RuleViolation, "last_admin", "you cannot take away your own admin role")
		}
		if p.Password != nil {
			u.PasswordHash = hash
		}
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		tx.CredentialsChanged(sb.CredentialsChange{UserID: u.ID})
		return s.drainTo(ctx, tx, a.AccountID, u.ID)
	})
	if sb.IsKind(err, sb.Conflict) {
		return nil, &sb.Error{Op: op, Kind: sb.Conflict, Code: "email_taken", Field: "email", Message: "a user with this email already exists"}
	}
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return s.userView(u), nil
}

func applyUserPatch(u *sb.User, p UserPatch) error {
	if p.Email != nil {
		u.Email = *p.Email
	}
	if p.Name != nil {
		u.Name = *p.Name
	}
	if p.Role != nil {
		u.Role = *p.Role
	}
	if p.PaidSeat != nil {
		u.PaidSeat = *p.PaidSeat
	}
	if p.ChatCapacity != nil {
		u.ChatCapacity = *p.ChatCapacity
	}
	if p.ManageAvailability != nil {
		u.ManageAvailability = *p.ManageAvailability
	}
	if p.WorkingHours != nil {
		u.WorkingHours = *p.WorkingHours
	}
	if p.OutOfOffice != nil {
		u.OutOfOffice = *p.OutOfOffice
	}
	return nil
}

// SetStatus is R-V1's toggle (and R-V3's reassign-replies switch). A user
// who becomes available gets the waiting backlog at once (R-X2).
func (s *Service) SetStatus(ctx context.Context, a Actor, userID string, in StatusInput) (*UserView, error) {
	const op = "app.SetStatus"
	if userID == "me" {
		userID = a.UserID
	}
	if in.Status != sb.Available && in.Status != sb.Away {
		return nil, sb.Invalidf(op, "status", "status must be \"available\" or \"away\"")
	}
	if err := checkSetStatus(op, a, userID, in.Status); err != nil {
		return nil, err
	}
	var u *sb.User
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		var err error
		if u, err = tx.User(ctx, a.AccountID, userID); err != nil {
			return err
		}
		u.Status = in.Status
		u.StatusSetBy = ""
		if userID != a.UserID {
			u.StatusSetBy = a.UserID
		}
		if in.ReassignReplies != nil {
			u.ReassignReplies = *in.ReassignReplies
		}
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		data, _ := json.Marshal(map[string]any{"user_id": u.ID, "status": u.Status, "set_by": u.StatusSetBy, "reassign_replies": u.ReassignReplies})
		if err := tx.AppendEvent(ctx, &sb.Event{AccountID: a.AccountID, Type: sb.EventUserStatus, UserID: u.ID, Data: data, CreatedAt: s.Now()}); err != nil {
			return err
		}
		if u.Status == sb.Available {
			return s.drainTo(ctx, tx, a.AccountID, u.ID)
		}
		return nil
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return s.userView(u), nil
}
