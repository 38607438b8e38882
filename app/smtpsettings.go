package app

import (
	"context"
	"net/mail"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
)

// SMTPSettingsInput replaces the account's outbound relay (R-E3).
// Password: absent keeps the stored one, "" removes it, a value sets it.
type SMTPSettingsInput struct {
	Host        string  `json:"host"`
	Port        int     `json:"port"`
	Username    string  `json:"username"`
	Password    *string `json:"password,omitempty"`
	TLS         string  `json:"tls"`
	FromAddress string  `json:"from_address"`
}

// SMTPSettingsView is the relay as the API shows it: never the password,
// only whether one is set.
type SMTPSettingsView struct {
	*sb.SMTPSettings
	Configured  bool `json:"configured"`
	PasswordSet bool `json:"password_set"`
}

func smtpView(s *sb.SMTPSettings) *SMTPSettingsView {
	return &SMTPSettingsView{SMTPSettings: s, Configured: s.Host != "", PasswordSet: s.Password != ""}
}

// SMTPSettings returns the account's relay settings (an empty, unconfigured
// view if none are set). Admins only.
func (s *Service) SMTPSettings(ctx context.Context, a Actor) (*SMTPSettingsView, error) {
	const op = "app.SMTPSettings"
	if err := requireAdmin(op, a); err != nil {
		return nil, err
	}
	var out *sb.SMTPSettings
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		out, err = tx.SMTPSettings(ctx, a.AccountID)
		return err
	})
	if sb.IsKind(err, sb.NotFound) {
		return smtpView(&sb.SMTPSettings{AccountID: a.AccountID, TLS: sb.SMTPTLSStartTLS}), nil
	}
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return smtpView(out), nil
}

// SetSMTPSettings replaces the account's relay settings. Admins only.
func (s *Service) SetSMTPSettings(ctx context.Context, a Actor, in SMTPSettingsInput) (*SMTPSettingsView, error) {
	const op = "app.SetSMTPSettings"
	if err := requireAdmin(op, a); err != nil {
		return nil, err
	}
	st := &sb.SMTPSettings{AccountID: a.AccountID, Host: strings.TrimSpace(in.Host), Port: in.Port, Username: in.Username,
		TLS: in.TLS, FromAddress: normEmail(in.FromAddress), UpdatedAt: s.Now()}
	if err := validateSMTPSettings(op, st); err != nil {
		return nil, err
	}
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		if in.Password != nil {
			st.Password = *in.Password
		} else if old, err := tx.SMTPSettings(ctx, a.AccountID); err == nil {
			st.Password = old.Password
		} else if !sb.IsKind(err, sb.NotFound) {
			return err
		}
		return tx.SetSMTPSettings(ctx, st)
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return smtpView(st), nil
}

func validateSMTPSettings(op string, st *sb.SMTPSettings) error {
	if st.Host == "" || strings.ContainsAny(st.Host, " /:@") {
		return sb.Invalidf(op, "host", "host must be the relay's host name or IP address, such as smtp.example.com")
	}
	if st.Port < 1 || st.Port > 65535 {
		return sb.Invalidf(op, "port", "port must be 1 to 65535 (usually 587 for STARTTLS, 465 for TLS, 25 for plain)")
	}
	if st.TLS == "" {
		st.TLS = sb.SMTPTLSStartTLS
	}
	switch st.TLS {
	case sb.SMTPTLSNone, sb.SMTPTLSStartTLS, sb.SMTPTLSImplicit:
	default:
		return sb.Invalidf(op, "tls", "tls must be none, starttls or tls")
	}
	if st.FromAddress != "" {
		if p, err := mail.ParseAddress(st.FromAddress); err != nil || p.Address != st.FromAddress {
			return sb.Invalidf(op, "from_address", "from_address %q is not an email address", st.FromAddress)
		}
	}
	return nil
}
