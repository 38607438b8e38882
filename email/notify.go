package email

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/wneessen/go-mail"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// sendMail is app.JobMail's handler: mail the product sends of its own
// accord (transcripts, notifications), from the channel's address or the
// relay's from address.
func (s *Sender) sendMail(ctx context.Context, j *sb.Job) error {
	var om app.OutMail
	if err := json.Unmarshal(j.Payload, &om); err != nil {
		return app.Permanent(err)
	}
	if len(om.To) == 0 {
		return app.Permanent(errors.New("the mail has no recipient"))
	}
	st, err := s.relay(ctx, j.AccountID)
	if err != nil {
		return err
	}
	from, err := s.fromAddress(ctx, j.AccountID, om.ChannelID, st)
	if err != nil {
		return err
	}
	m := mail.NewMsg()
	if err := m.FromFormat(from.Name, from.Email); err != nil {
		return app.Permanent(err)
	}
	if err := m.To(om.To...); err != nil {
		return app.Permanent(fmt.Errorf("a recipient cannot be used: %w", err))
	}
	m.Subject(om.Subject)
	m.SetMessageIDWithValue("sbm." + j.ID + "@" + domainOf(from.Email))
	m.SetDate()
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	for k, v := range om.Headers {
		m.SetGenHeader(mail.Header(k), v)
	}
	text := om.Text
	if text == "" && om.HTML == "" {
		text = om.Subject
	}
	if text != "" {
		m.SetBodyString(mail.TypeTextPlain, text)
		if om.HTML != "" {
			m.AddAlternativeString(mail.TypeTextHTML, om.HTML)
		}
	} else {
		m.SetBodyString(mail.TypeTextHTML, om.HTML)
	}
	if err := m.EnvelopeFrom(envelopeFrom(st, from.Email)); err != nil {
		return app.Permanent(err)
	}
	return s.deliver(ctx, st, m)
}

// fromAddress is the sender of product mail: the email channel's address
// and the account's name, else the relay's from address.
func (s *Sender) fromAddress(ctx context.Context, accountID, channelID string, st *sb.SMTPSettings) (Address, error) {
	var from Address
	err := s.svc.View(ctx, func(tx sb.Tx) error {
		acct, err := tx.Account(ctx, accountID)
		if err != nil {
			return err
		}
		from.Name = acct.Name
		if channelID == "" {
			return nil
		}
		ch, err := tx.Channel(ctx, accountID, channelID)
		if sb.IsKind(err, sb.NotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if cfg, err := app.ParseEmailConfig(ch.Config); err == nil && ch.Kind == sb.KindEmail {
			from.Email = cfg.Address
		}
		return nil
	})
	if err != nil {
		return from, err
	}
	if from.Email == "" {
		from.Email = st.FromAddress
	}
	if from.Email == "" {
		return from, app.Permanent(errors.New("no sender address: set from_address in the SMTP settings"))
	}
	return from, nil
}

func envelopeFrom(st *sb.SMTPSettings, from string) string {
	if st.FromAddress != "" {
		return st.FromAddress
	}
	return from
}

// notifyOwner is app.JobNotifyOwner's handler (R-A8): a conversation went
// to its contact's owner while they were away; they get an email.
func (s *Sender) notifyOwner(ctx context.Context, j *sb.Job) error {
	var p app.NotifyOwner
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return app.Permanent(err)
	}
	var om app.OutMail
	err := s.svc.View(ctx, func(tx sb.Tx) error {
		c, err := tx.Conversation(ctx, j.AccountID, p.ConversationID)
		if err != nil {
			return err
		}
		owner, err := tx.User(ctx, j.AccountID, p.OwnerID)
		if err != nil {
			return err
		}
		contact, err := tx.Contact(ctx, j.AccountID, c.ContactID)
		if err != nil {
			return err
		}
		who := contact.Name
		if who == "" {
			who = contact.Email
		}
		if who == "" {
			who = "one of your contacts"
		}
		om = NotificationMail(owner, who, c)
		if c.ChannelKind == sb.KindEmail {
			om.ChannelID = c.ChannelID
		}
		return nil
	})
	if sb.IsKind(err, sb.NotFound) {
		return app.Permanent(err)
	}
	if err != nil {
		return err
	}
	payload, err := json.Marshal(om)
	if err != nil {
		return app.Permanent(err)
	}
	return s.sendMail(ctx, &sb.Job{ID: j.ID, AccountID: j.AccountID, Kind: app.JobMail, Payload: payload})
}

// NotificationMail is the email R-A8 sends an away owner.
func NotificationMail(owner *sb.User, who string, c *sb.Conversation) app.OutMail {
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\n\n", owner.Name)
	fmt.Fprintf(&b, "%s wrote in on the %s channel. You own this contact, so the conversation was assigned to you, although you are away.\n\n", who, c.ChannelKind)
	if c.Subject != "" {
		fmt.Fprintf(&b, "Subject: %s\n", c.Subject)
	}
	if c.Preview != "" {
		fmt.Fprintf(&b, "Message: %s\n", c.Preview)
	}
	fmt.Fprintf(&b, "\nConversation: %s\n", c.ID)
	return app.OutMail{
		To:      []string{owner.Email},
		Subject: "New conversation from " + who + " assigned to you",
		Text:    b.String(),
		Headers: map[string]string{"X-Switchboard-Conversation": c.ID},
	}
}
