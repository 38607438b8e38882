package email

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/inbucket/html2text"
	"github.com/wneessen/go-mail"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// JobReply is the job kind that sends an agent's reply on an email
// channel (R-E3). It is enqueued with the reply, in its transaction.
const JobReply = "email.reply"

// Defaults of the sender.
const (
	sendTimeout = 30 * time.Second
	maxRefsOut  = 20
)

// Sender sends mail through each account's SMTP relay: replies (JobReply),
// the core's generic mail (app.JobMail) and owner notifications
// (app.JobNotifyOwner, R-A8).
type Sender struct {
	svc  *app.Service
	log  *slog.Logger
	helo string
}

// NewSender returns a Sender that greets relays as helo.
func NewSender(svc *app.Service, helo string, log *slog.Logger) *Sender {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if helo == "" {
		helo = "localhost"
	}
	return &Sender{svc: svc, log: log, helo: helo}
}

// Register registers the sender's job handlers and the email channel's
// outbound hook. Call it before svc.Start.
func (s *Sender) Register() {
	s.svc.RegisterOutbound(sb.KindEmail, app.Outbound{JobKind: JobReply, Check: checkReply})
	s.svc.HandleJobs(JobReply, s.sendReply)
	s.svc.HandleJobs(app.JobMail, s.sendMail)
	s.svc.HandleJobs(app.JobNotifyOwner, s.notifyOwner)
}

// checkReply refuses a reply that could never be sent: the contact has
// no email address (a conversation started through the generic inbound
// endpoint with a phone number only).
func checkReply(ctx context.Context, tx sb.Tx, _ *sb.Channel, c *sb.Conversation, _ time.Time) error {
	ct, err := tx.Contact(ctx, c.AccountID, c.ContactID)
	if err != nil {
		return err
	}
	if ct.Email == "" {
		return sb.E("email.checkReply", sb.RuleViolation, "contact_without_email", "this contact has no email address, so an email reply cannot reach them; add one to the contact first")
	}
	return nil
}

// errNoRelay is a permanent failure: the account has no relay.
var errNoRelay = errors.New("no outbound SMTP relay is configured for this account; an admin sets one with PUT /api/v1/settings/smtp")

// relay loads the account's relay settings.
func (s *Sender) relay(ctx context.Context, accountID string) (*sb.SMTPSettings, error) {
	var st *sb.SMTPSettings
	err := s.svc.View(ctx, func(tx sb.Tx) error {
		var err error
		st, err = tx.SMTPSettings(ctx, accountID)
		return err
	})
	if sb.IsKind(err, sb.NotFound) || (err == nil && st.Host == "") {
		return nil, app.Permanent(errNoRelay)
	}
	return st, err
}

// deliver sends msg through the relay. A 5xx answer is Permanent.
func (s *Sender) deliver(ctx context.Context, st *sb.SMTPSettings, msg *mail.Msg) error {
	opts := []mail.Option{mail.WithPort(st.Port), mail.WithTimeout(sendTimeout), mail.WithHELO(s.helo)}
	switch st.TLS {
	case sb.SMTPTLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case sb.SMTPTLSImplicit:
		opts = append(opts, mail.WithSSL())
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if st.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(st.Username), mail.WithPassword(st.Password))
	}
	c, err := mail.NewClient(st.Host, opts...)
	if err != nil {
		return app.Permanent(fmt.Errorf("the relay settings are unusable: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	err = c.DialAndSendWithContext(ctx, msg)
	var se *mail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
		return app.Permanent(fmt.Errorf("the relay refused the message: %w", err))
	}
	return err
}

// sendReply is JobReply's handler: it sends one reply and records the
// outcome on the message.
func (s *Sender) sendReply(ctx context.Context, j *sb.Job) error {
	var p app.SendPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return app.Permanent(err)
	}
	o, err := s.svc.Outgoing(ctx, j.AccountID, p.MessageID)
	if sb.IsKind(err, sb.NotFound) {
		// The channel (or the contact) was deleted meanwhile: say so on the
		// message, if it is still there.
		if merr := s.svc.MarkDeliveryFailed(ctx, j.AccountID, p.MessageID, "not sent: "+failureReason(err)); merr != nil && !sb.IsKind(merr, sb.NotFound) {
			return merr
		}
		return app.Permanent(err)
	}
	if err != nil {
		return err
	}
	if o.Message.Delivery == sb.DeliverySent {
		return nil // sent by an earlier attempt whose outcome was lost
	}
	msg, msgID, err := s.composeReply(ctx, o)
	var st *sb.SMTPSettings
	if err == nil {
		st, err = s.relay(ctx, j.AccountID)
	}
	if err == nil && st.FromAddress != "" {
		err = msg.EnvelopeFrom(st.FromAddress) // the relay may accept only its own sender
	}
	if err == nil {
		err = s.deliver(ctx, st, msg)
	}
	if err != nil {
		if app.IsPermanent(err) || s.svc.LastAttempt(j) {
			if merr := s.svc.MarkDeliveryFailed(ctx, j.AccountID, p.MessageID, failureReason(err)); merr != nil {
				return merr
			}
			return app.Permanent(err)
		}
		return err
	}
	s.log.Info("email reply sent", "message_id", p.MessageID, "conversation_id", p.ConversationID, "smtp_message_id", msgID)
	return s.svc.MarkDelivered(ctx, j.AccountID, p.MessageID, msgID)
}

func failureReason(err error) string {
	msg := err.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	return msg
}

// composeReply builds the reply's email (R-E3): From "agent at company"
// or "company" at the channel's address, the signature with the agent's
// name, To the contact, threaded by In-Reply-To and References.
func (s *Sender) composeReply(ctx context.Context, o *app.Outgoing) (*mail.Msg, string, error) {
	cfg, err := app.ParseEmailConfig(o.Channel.Config)
	if err != nil {
		return nil, "", app.Permanent(err)
	}
	if o.Contact.Email == "" {
		return nil, "", app.Permanent(errors.New("the contact has no email address to reply to"))
	}
	from := cfg.Address
	if from == "" {
		st, err := s.relay(ctx, o.Account.ID)
		if err != nil {
			return nil, "", err
		}
		from = st.FromAddress
	}
	if from == "" {
		return nil, "", app.Permanent(errors.New("the email channel has no address and the relay no from address"))
	}
	msgID := MessageIDFor(o.Message.ID, domainOf(from))
	m := mail.NewMsg()
	if err := m.FromFormat(FromName(cfg, o.Account, o.Author), from); err != nil {
		return nil, "", app.Permanent(err)
	}
	if err := m.AddToFormat(o.Contact.Name, o.Contact.Email); err != nil {
		return nil, "", app.Permanent(fmt.Errorf("the contact's address %q cannot be used: %w", o.Contact.Email, err))
	}
	if err := m.ReplyTo(from); err != nil {
		return nil, "", app.Permanent(err)
	}
	m.Subject(replySubject(o.Conversation.Subject, o.Account.Name))
	m.SetMessageIDWithValue(msgID)
	m.SetDateWithValue(o.Message.CreatedAt)
	if inReplyTo, refs := threadRefs(o, domainOf(from)); inReplyTo != "" {
		m.SetGenHeaderPreformatted(mail.HeaderInReplyTo, "<"+inReplyTo+">")
		m.SetGenHeaderPreformatted(mail.HeaderReferences, "<"+strings.Join(refs, ">\r\n <")+">")
	}
	text, htmlBody := ReplyBody(o.Message.Body, cfg, o.Author)
	m.SetBodyString(mail.TypeTextPlain, text)
	if htmlBody != "" {
		m.AddAlternativeString(mail.TypeTextHTML, htmlBody)
	}
	if err := m.EnvelopeFrom(from); err != nil {
		return nil, "", app.Permanent(err)
	}
	return m, msgID, nil
}

// FromName is R-E3's From name: "Agent Name at Company" (the default) or
// "Company".
func FromName(cfg app.EmailConfig, acct *sb.Account, author *sb.User) string {
	if cfg.FromNameMode == app.FromCompany || author == nil || author.Name == "" {
		return acct.Name
	}
	return author.Name + " at " + acct.Name
}

var replyPrefix = regexp.MustCompile(`(?i)^\s*((re|aw|sv|vs|antw|réf|rif)\s*(\[\d+\])?\s*:\s*)+`)

func replySubject(subject, company string) string {
	subject = replyPrefix.ReplaceAllString(subject, "")
	if strings.TrimSpace(subject) == "" {
		return "Re: your message to " + company
	}
	return "Re: " + subject
}

// threadRefs returns the Message-ID the reply answers (the latest
// message from the contact, else the latest of the thread) and the
// References: the contact's own references, then the thread's ids, the
// first kept and the newest ones up to maxRefsOut.
func threadRefs(o *app.Outgoing, domain string) (string, []string) {
	var refs []string
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] && !strings.HasSuffix(id, "@switchboard.invalid") {
			seen[id] = true
			refs = append(refs, id)
		}
	}
	inReplyTo := ""
	for _, m := range o.Thread {
		if m.ID == o.Message.ID {
			break
		}
		switch m.Direction {
		case sb.DirectionIn:
			if m.ExternalID == "" {
				continue
			}
			var meta Meta
			if json.Unmarshal(m.Meta, &meta) == nil {
				for _, r := range meta.References {
					add(r)
				}
			}
			add(m.ExternalID)
			if seen[m.ExternalID] {
				inReplyTo = m.ExternalID
			}
		case sb.DirectionOut:
			if m.Delivery == sb.DeliverySent {
				add(MessageIDFor(m.ID, domain))
			}
		}
	}
	if inReplyTo == "" && len(refs) > 0 {
		inReplyTo = refs[len(refs)-1]
	}
	if len(refs) > maxRefsOut {
		refs = append(refs[:1], refs[len(refs)-maxRefsOut+1:]...)
	}
	return inReplyTo, refs
}

// ReplyBody is the reply's text and, with an HTML signature, its HTML:
// the agent's body, then the channel's signature with {{full_name}},
// {{first_name}} and {{last_name}} replaced by the agent's (R-E3).
func ReplyBody(body string, cfg app.EmailConfig, author *sb.User) (text, htmlBody string) {
	sig := strings.TrimSpace(cfg.Signature)
	if sig == "" {
		return body, ""
	}
	full, first, last := names(author)
	if !cfg.SignatureHTML {
		sig = strings.NewReplacer("{{full_name}}", full, "{{first_name}}", first, "{{last_name}}", last).Replace(sig)
		return body + "\n\n-- \n" + sig, ""
	}
	e := html.EscapeString
	sigHTML := sanitizer.Sanitize(strings.NewReplacer("{{full_name}}", e(full), "{{first_name}}", e(first), "{{last_name}}", e(last)).Replace(sig))
	sigText, err := html2text.FromString(sigHTML)
	if err != nil {
		sigText = ""
	}
	htmlBody = `<div style="white-space: pre-wrap">` + e(body) + `</div><br><div class="signature">` + sigHTML + `</div>`
	return body + "\n\n-- \n" + strings.TrimSpace(sigText), htmlBody
}

// names splits a user's name: the first word, and the rest.
func names(u *sb.User) (full, first, last string) {
	if u == nil {
		return "", "", ""
	}
	full = strings.TrimSpace(u.Name)
	first, last, _ = strings.Cut(full, " ")
	return full, first, strings.TrimSpace(last)
}

func domainOf(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return d
}
