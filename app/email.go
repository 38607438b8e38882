package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
)

// From name modes of an email channel (R-E3).
const (
	FromAgentAndCompany = "agent_and_company" // "Ada Lovelace at Acme"
	FromCompany         = "company"           // "Acme"
)

// maxAliases bounds an email channel's aliases.
const maxAliases = 20

// EmailConfig is an email channel's config (R-E1 … R-E5).
type EmailConfig struct {
	// Address is the team address (support@acme.com); mail to it, or to
	// one of Aliases, arrives on this channel. Unique in the installation
	// and never a user's own address (R-E2).
	Address string   `json:"address,omitempty"`
	Aliases []string `json:"aliases,omitempty"`
	// LogForwardedToForwarder logs mail a team member forwards in to the
	// forwarder's contact instead of the original sender's (R-E5).
	LogForwardedToForwarder bool `json:"log_forwarded_to_forwarder,omitempty"`
	// FromNameMode is FromAgentAndCompany (default) or FromCompany (R-E3).
	FromNameMode string `json:"from_name_mode,omitempty"`
	// Signature is appended to replies; {{full_name}}, {{first_name}} and
	// {{last_name}} are the replying agent's. SignatureHTML says it is
	// HTML (sanitized when sent) rather than plain text.
	Signature     string `json:"signature,omitempty"`
	SignatureHTML bool   `json:"signature_html,omitempty"`
}

// ParseEmailConfig reads an email channel's config.
func ParseEmailConfig(raw json.RawMessage) (EmailConfig, error) {
	var c EmailConfig
	if len(raw) == 0 {
		return c, nil
	}
	err := json.Unmarshal(raw, &c)
	return c, err
}

// Addresses returns the channel's address and aliases, lower-case, without
// duplicates.
func (c EmailConfig) Addresses() []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range append([]string{c.Address}, c.Aliases...) {
		if a = normEmail(a); a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// validateEmailConfig checks an email channel's config field by field.
func validateEmailConfig(op string, raw json.RawMessage) (EmailConfig, error) {
	c, err := ParseEmailConfig(raw)
	if err != nil {
		return c, sb.Invalidf(op, "config", "an email channel's config must be an object with address (string), aliases (list of strings), log_forwarded_to_forwarder (boolean), from_name_mode, signature and signature_html: %v", err)
	}
	if c.Address == "" && len(c.Aliases) > 0 {
		return c, sb.Invalidf(op, "config.address", "aliases need a main address")
	}
	if len(c.Aliases) > maxAliases {
		return c, sb.Invalidf(op, "config.aliases", "at most %d aliases", maxAliases)
	}
	for i, a := range c.Addresses() {
		field := "config.address"
		if i > 0 {
			field = "config.aliases"
		}
		if p, err := mail.ParseAddress(a); err != nil || p.Address != a {
			return c, sb.Invalidf(op, field, "%q is not an email address", a)
		}
	}
	switch c.FromNameMode {
	case "", FromAgentAndCompany, FromCompany:
	default:
		return c, sb.Invalidf(op, "config.from_name_mode", "from_name_mode must be %s or %s", FromAgentAndCompany, FromCompany)
	}
	if len(c.Signature) > 16<<10 {
		return c, sb.Invalidf(op, "config.signature", "the signature is longer than 16 KiB")
	}
	return c, nil
}

// setEmailAddresses validates an email channel's config and records its
// addresses, inside the channel's create or update transaction: an address
// may belong to one channel of the whole installation (409
// address_taken), and never be a user's own address (R-E2, 422).
func setEmailAddresses(ctx context.Context, tx sb.Tx, op string, c *sb.Channel) error {
	if c.Kind != sb.KindEmail {
		return nil
	}
	cfg, err := validateEmailConfig(op, c.Config)
	if err != nil {
		return err
	}
	addrs := cfg.Addresses()
	for _, a := range addrs {
		if u, err := tx.UserByEmail(ctx, a); err == nil {
			who := "a user of another account"
			if u.AccountID == c.AccountID {
				who = u.Name
			}
			return &sb.Error{Op: op, Kind: sb.RuleViolation, Code: "address_is_personal", Field: "config.address",
				Message: fmt.Sprintf("%s is the personal address of %s; a team address cannot also be a user's own address (R-E2)", a, who)}
		} else if !sb.IsKind(err, sb.NotFound) {
			return err
		}
		if other, err := tx.ChannelByAddress(ctx, a); err == nil && other.ID != c.ID {
			return addressTaken(op, a)
		} else if err != nil && !sb.IsKind(err, sb.NotFound) {
			return err
		}
	}
	err = tx.SetChannelAddresses(ctx, c.AccountID, c.ID, addrs)
	if sb.IsKind(err, sb.Conflict) {
		return addressTaken(op, strings.Join(addrs, ", "))
	}
	return err
}

func addressTaken(op, addr string) error {
	return &sb.Error{Op: op, Kind: sb.Conflict, Code: "address_taken", Field: "config.address",
		Message: fmt.Sprintf("%s already receives mail for another email channel; an address can belong to one channel only", addr)}
}

// checkPersonalAddress is R-E2 from the user's side: a user's own address
// cannot be a team address of an email channel.
func checkPersonalAddress(ctx context.Context, tx sb.Tx, op, email string) error {
	_, err := tx.ChannelByAddress(ctx, email)
	switch {
	case err == nil:
		return &sb.Error{Op: op, Kind: sb.RuleViolation, Code: "address_is_team_address", Field: "email",
			Message: fmt.Sprintf("%s is the team address of an email channel; a user's own address cannot also be a team address (R-E2)", email)}
	case sb.IsKind(err, sb.NotFound):
		return nil
	default:
		return err
	}
}

// AttachmentRef is an attachment of an inbound email, as its message's
// meta describes it; the bytes are in the email channel's file store.
type AttachmentRef struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
}

// Attachment finds the attachment with this SHA-256 on a message of a
// conversation the actor may see (R-I5). NotFound if the conversation is
// not visible or has no such attachment.
func (s *Service) Attachment(ctx context.Context, a Actor, conversationID, sha256 string) (*AttachmentRef, error) {
	const op = "app.Attachment"
	msgs, err := s.Messages(ctx, a, conversationID)
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	for _, m := range msgs {
		if len(m.Meta) == 0 {
			continue
		}
		var meta struct {
			Attachments []AttachmentRef `json:"attachments"`
		}
		if json.Unmarshal(m.Meta, &meta) != nil {
			continue
		}
		for _, at := range meta.Attachments {
			if at.SHA256 == sha256 {
				return &at, nil
			}
		}
	}
	return nil, sb.E(op, sb.NotFound, "attachment_not_found", "this conversation has no such attachment")
}
