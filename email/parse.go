// Package email is the team email channel (issue 3): an inbound SMTP
// listener that turns mail into routed conversations, MIME parsing,
// threading, and replies and notifications sent out through the account's
// SMTP relay.
package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jhillyerd/enmime/v2"
	"github.com/jhillyerd/enmime/v2/dsn"
	"github.com/microcosm-cc/bluemonday"
)

// Limits of what a parsed message keeps.
const (
	// MaxBody is the most body text kept (bytes); the core refuses more.
	MaxBody = 64 << 10
	// maxHTML is the most sanitized HTML kept in a message's meta.
	maxHTML = 256 << 10
	// maxRefs is how many References are kept (the newest).
	maxRefs = 50
	// maxExternalID is the core's bound on an external id.
	maxExternalID = 512
)

// Address is a mailbox: a display name and an address (lower-case).
type Address struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

func (a Address) String() string {
	return (&mail.Address{Name: a.Name, Address: a.Email}).String()
}

// Attachment describes a file of a message. Its bytes are stored
// content-addressed by SHA256 (see Files).
type Attachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
	SHA256      string `json:"sha256"`
	Inline      bool   `json:"inline,omitempty"`
	ContentID   string `json:"content_id,omitempty"`
	data        []byte
}

// Data returns the attachment's bytes.
func (a *Attachment) Data() []byte { return a.data }

// Forwarded is the original sender of a forwarded message, found in the
// forwarding header block a mail client writes above the original (Gmail,
// Outlook, Apple Mail, Thunderbird) or in an attached message/rfc822.
type Forwarded struct {
	From    Address `json:"from"`
	Subject string  `json:"subject,omitempty"`
	Date    string  `json:"date,omitempty"`
	Source  string  `json:"source"` // gmail, outlook, apple, thunderbird, rfc822
}

// Bounce is a delivery status notification (RFC 3464) about a message
// that could not be delivered.
type Bounce struct {
	Recipient         string `json:"recipient,omitempty"`
	Action            string `json:"action,omitempty"`
	Status            string `json:"status,omitempty"`
	Diagnostic        string `json:"diagnostic,omitempty"`
	OriginalMessageID string `json:"original_message_id,omitempty"`
}

// Message is a parsed email: what a mail client would show, with threading
// headers. Text is never empty; HTML is sanitized.
type Message struct {
	MessageID     string       `json:"message_id,omitempty"` // without angle brackets
	InReplyTo     []string     `json:"in_reply_to,omitempty"`
	References    []string     `json:"references,omitempty"`
	From          Address      `json:"from"`
	To            []Address    `json:"to,omitempty"`
	Cc            []Address    `json:"cc,omitempty"`
	ReplyTo       []Address    `json:"reply_to,omitempty"`
	Subject       string       `json:"subject,omitempty"`
	Date          time.Time    `json:"date,omitzero"`
	Text          string       `json:"text"`
	Quoted        string       `json:"quoted,omitempty"` // the quoted original below a reply, cut from Text
	HTML          string       `json:"html,omitempty"`
	Truncated     bool         `json:"truncated,omitempty"`
	Attachments   []Attachment `json:"attachments,omitempty"`
	Forwarded     *Forwarded   `json:"forwarded,omitempty"`
	Bounce        *Bounce      `json:"bounce,omitempty"`
	AutoSubmitted string       `json:"auto_submitted,omitempty"`
	Warnings      []string     `json:"warnings,omitempty"`
	hash          string
}

// ErrUnparseable is returned by Parse for input that no mail client could
// show: no header section at all.
var ErrUnparseable = errors.New("the message has no readable header section")

var (
	parser    = enmime.NewParser(enmime.SkipMalformedParts(true), enmime.MultipartWOBoundaryAsSinglePart(true), enmime.MaxStoredPartErrors(20))
	sanitizer = bluemonday.UGCPolicy()
)

// Parse parses a raw RFC 5322 message. It accepts what a mail client would
// show (broken boundaries, unknown charsets, bad encodings become warnings)
// and returns ErrUnparseable otherwise.
func Parse(raw []byte) (m *Message, err error) {
	defer func() {
		// enmime is robust, but a panic on hostile input must not take
		// the listener down: it is an unparseable message.
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%w: %v", ErrUnparseable, r)
		}
	}()
	if !hasHeader(raw) {
		return nil, ErrUnparseable
	}
	env, err := parser.ReadEnvelope(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnparseable, err)
	}
	sum := sha256.Sum256(raw)
	m = &Message{hash: hex.EncodeToString(sum[:16])}
	m.headers(env)
	m.body(env)
	if m.Text == "" && m.HTML == "" && len(env.Attachments)+len(env.Inlines) == 0 {
		m.Text = rawText(raw)
	}
	m.files(env)
	m.Forwarded = findForwarded(m, env)
	if m.Forwarded == nil && len(m.InReplyTo)+len(m.References) > 0 {
		// A reply: the body is what the sender wrote; the quoted original
		// is kept beside it (a forward keeps everything: R-E5 reads it).
		m.Text, m.Quoted = splitQuote(m.Text)
	}
	m.Text, m.Quoted = m.truncate(m.Text), m.truncate(m.Quoted)
	m.Bounce = findBounce(env)
	for _, e := range env.Errors {
		if w := e.Error(); len(m.Warnings) == 0 || m.Warnings[len(m.Warnings)-1] != w {
			m.Warnings = append(m.Warnings, w)
		}
	}
	return m, nil
}

// rawText is what a mail client shows of a multipart message whose parts
// cannot be found (a boundary that does not match): the body's text lines,
// without boundary and part-header lines.
func rawText(raw []byte) string {
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	_, body, ok := bytes.Cut(raw, []byte("\n\n"))
	if !ok {
		return ""
	}
	var out []string
	for _, line := range strings.Split(string(body), "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "--") || strings.HasPrefix(strings.ToLower(l), "content-") {
			continue
		}
		out = append(out, line)
	}
	return strings.TrimSpace(strings.ToValidUTF8(strings.Join(out, "\n"), "\uFFFD"))
}

// hasHeader reports whether raw starts with something like a header field.
func hasHeader(raw []byte) bool {
	line, _, _ := bytes.Cut(raw, []byte("\n"))
	name, _, ok := bytes.Cut(line, []byte(":"))
	return ok && len(name) > 0 && !bytes.ContainsAny(name, " \t") && utf8.Valid(name)
}

func (m *Message) headers(env *enmime.Envelope) {
	m.MessageID = firstID(env.GetHeader("Message-Id"))
	m.InReplyTo = msgIDs(env.GetHeader("In-Reply-To"))
	m.References = msgIDs(env.GetHeader("References"))
	if len(m.References) > maxRefs {
		m.References = m.References[len(m.References)-maxRefs:]
	}
	m.Subject = oneLine(env.GetHeader("Subject"))
	if from := addresses(env, "From"); len(from) > 0 {
		m.From = from[0]
	}
	m.To, m.Cc, m.ReplyTo = addresses(env, "To"), addresses(env, "Cc"), addresses(env, "Reply-To")
	if d, err := env.Date(); err == nil {
		m.Date = d.UTC()
	}
	m.AutoSubmitted = strings.ToLower(strings.TrimSpace(env.GetHeader("Auto-Submitted")))
	if m.AutoSubmitted == "no" {
		m.AutoSubmitted = ""
	}
}

// addresses parses an address header leniently: what net/mail refuses is
// split on commas and each piece tried alone.
func addresses(env *enmime.Envelope, key string) []Address {
	list, err := env.AddressList(key)
	if err != nil {
		list = nil
		for _, piece := range strings.Split(env.GetHeader(key), ",") {
			if a := looseAddress(piece); a != nil {
				list = append(list, a)
			}
		}
	}
	out := make([]Address, 0, len(list))
	for _, a := range list {
		if a.Address == "" {
			continue
		}
		out = append(out, Address{Name: oneLine(a.Name), Email: strings.ToLower(a.Address)})
	}
	return out
}

// looseAddress finds an address in s: "Name <a@b>", "a@b", "Name [mailto:a@b]".
func looseAddress(s string) *mail.Address {
	s = strings.TrimSpace(s)
	if a, err := mail.ParseAddress(s); err == nil {
		return a
	}
	s = strings.NewReplacer("[mailto:", "<", "]", ">", "mailto:", "").Replace(s)
	if a, err := mail.ParseAddress(s); err == nil {
		return a
	}
	if i, j := strings.LastIndexByte(s, '<'), strings.LastIndexByte(s, '>'); i >= 0 && j > i {
		if a, err := mail.ParseAddress(s[i+1 : j]); err == nil {
			a.Name = strings.Trim(strings.TrimSpace(s[:i]), `"'`)
			return a
		}
	}
	for _, f := range strings.Fields(s) {
		if a, err := mail.ParseAddress(strings.Trim(f, "<>()[],;:\"'")); err == nil && strings.Contains(a.Address, "@") {
			return a
		}
	}
	return nil
}

// body sets Text (never empty, at most MaxBody) and HTML (sanitized).
func (m *Message) body(env *enmime.Envelope) {
	text := strings.TrimSpace(strings.ReplaceAll(env.Text, "\r\n", "\n"))
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	if env.HTML != "" {
		h := sanitizer.Sanitize(env.HTML)
		if len(h) > maxHTML {
			h, m.Truncated = "", true
		}
		m.HTML = strings.TrimSpace(h)
	}
	m.Text = text
}

// truncate cuts s to MaxBody bytes (at a rune boundary), with a note.
func (m *Message) truncate(s string) string {
	if len(s) <= MaxBody {
		return s
	}
	m.Truncated = true
	return clip(s, MaxBody-100) + "\n\n[… the rest of this message was cut: it is longer than 64 KiB]"
}

// files records attachments and inline parts (not the bodies).
func (m *Message) files(env *enmime.Envelope) {
	add := func(p *enmime.Part, inline bool) {
		sum := sha256.Sum256(p.Content)
		name := oneLine(p.FileName)
		if name == "" {
			name = "attachment"
			if p.ContentType == "message/rfc822" {
				name = "forwarded.eml"
			}
		}
		m.Attachments = append(m.Attachments, Attachment{
			Filename: name, ContentType: strings.ToLower(p.ContentType), Size: len(p.Content),
			SHA256: hex.EncodeToString(sum[:]), Inline: inline, ContentID: strings.Trim(p.ContentID, "<>"), data: p.Content,
		})
	}
	for _, p := range env.Attachments {
		add(p, false)
	}
	for _, p := range env.Inlines {
		add(p, true)
	}
	for _, p := range env.OtherParts {
		if p.ContentID != "" || p.FileName != "" {
			add(p, true)
		}
	}
	if m.Text == "" {
		switch {
		case len(m.Attachments) > 0:
			names := make([]string, len(m.Attachments))
			for i, a := range m.Attachments {
				names[i] = a.Filename
			}
			m.Text = "[no text; attachments: " + strings.Join(names, ", ") + "]"
		case m.Subject != "":
			m.Text = "[no text] " + m.Subject
		default:
			m.Text = "[empty message]"
		}
	}
}

// ExternalID is the message's identity for de-duplication: its Message-ID,
// or, without one (or with one too long to keep), a hash of its bytes.
func (m *Message) ExternalID() string {
	if m.MessageID != "" && len(m.MessageID) <= maxExternalID {
		return m.MessageID
	}
	return "sha256-" + m.hash + "@switchboard.invalid"
}

// Thread returns the ids this message refers to, nearest first:
// In-Reply-To, then References from the newest.
func (m *Message) Thread() []string {
	out := append([]string{}, m.InReplyTo...)
	for i := len(m.References) - 1; i >= 0; i-- {
		out = append(out, m.References[i])
	}
	return out
}

// msgIDs splits a header of <id> tokens; ids without brackets (seen in
// the wild) are taken whole.
func msgIDs(h string) []string {
	var out []string
	seen := map[string]bool{}
	for {
		i := strings.IndexByte(h, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(h[i:], '>')
		if j < 0 {
			break
		}
		if id := strings.TrimSpace(h[i+1 : i+j]); id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
		h = h[i+j+1:]
	}
	if len(out) == 0 {
		for _, f := range strings.Fields(h) {
			if strings.Contains(f, "@") && !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}

func firstID(h string) string {
	if ids := msgIDs(h); len(ids) > 0 {
		return ids[0]
	}
	return ""
}

// oneLine folds whitespace (a header may carry newlines after decoding).
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
}

// findBounce reads a delivery status report.
func findBounce(env *enmime.Envelope) *Bounce {
	if env.Root == nil {
		return nil
	}
	rep, err := dsn.ParseReport(env.Root)
	if err != nil || rep == nil {
		return nil
	}
	b := &Bounce{}
	for _, r := range rep.DeliveryStatus.RecipientDSNs {
		b.Action = strings.ToLower(r.Get("Action"))
		b.Status = r.Get("Status")
		b.Recipient = afterSemicolon(r.Get("Final-Recipient"))
		b.Diagnostic = oneLine(afterSemicolon(r.Get("Diagnostic-Code")))
		if dsn.IsFailed(r) {
			break
		}
	}
	orig := rep.OriginalMessage
	if len(orig) == 0 {
		// Some servers attach only the headers as text/rfc822-headers,
		// which the report parser does not return.
		if p := env.Root.BreadthMatchFirst(func(p *enmime.Part) bool {
			return p.ContentType == "text/rfc822-headers" || p.ContentType == "message/rfc822-headers"
		}); p != nil {
			orig = p.Content
		}
	}
	if len(orig) > 0 {
		if oe, err := parser.ReadEnvelope(bytes.NewReader(orig)); err == nil {
			b.OriginalMessageID = firstID(oe.GetHeader("Message-Id"))
		}
	}
	return b
}

func afterSemicolon(s string) string {
	if _, v, ok := strings.Cut(s, ";"); ok {
		return strings.TrimSpace(v)
	}
	return strings.TrimSpace(s)
}
