package forms

import (
	"encoding/json"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
)

// Field types.
const (
	TypeText     = "text"
	TypeEmail    = "email"
	TypePhone    = "phone"
	TypeTextarea = "textarea"
	TypeSelect   = "select"
	TypeHidden   = "hidden"
)

// Where a field's value goes besides the submission.
const (
	MapEmail   = "contact.email"
	MapName    = "contact.name"
	MapPhone   = "contact.phone"
	MapSubject = "subject"
	mapTicket  = "ticket." // ticket.<field>: handed to tickets in Message.Meta["ticket"]
)

// Field is one input of a form.
type Field struct {
	Name     string   `json:"name"`
	Label    string   `json:"label,omitempty"`
	Type     string   `json:"type"`
	Required bool     `json:"required,omitempty"`
	Options  []string `json:"options,omitempty"` // select
	MaxLen   int      `json:"max_length,omitempty"`
	// MapsTo is contact.email, contact.name, contact.phone, subject or
	// ticket.<ticket field>; empty for none.
	MapsTo string `json:"maps_to,omitempty"`
}

// Form is a form channel's config: its fields and limits.
type Form struct {
	Fields []Field `json:"fields"`
	// Subject of the conversation when no field maps to it.
	Subject string `json:"subject,omitempty"`
	// RedirectURL: plain HTML form posts are answered 303 to it.
	RedirectURL string `json:"redirect_url,omitempty"`
	// AllowedOrigins may post from a browser (CORS); empty allows any.
	AllowedOrigins []string `json:"allowed_origins,omitempty"`
	// Honeypot names a field people never fill (hidden by CSS); a
	// submission that fills it is answered as accepted and stored nowhere.
	Honeypot string `json:"honeypot,omitempty"`
	// RatePerMinute bounds submissions per client IP and form (default 10;
	// a minute's worth may come at once, then they refill steadily).
	RatePerMinute int `json:"rate_per_minute,omitempty"`
}

// DefaultFields is the form of a channel whose config names none.
var DefaultFields = []Field{
	{Name: "name", Label: "Name", Type: TypeText, MapsTo: MapName},
	{Name: "email", Label: "Email", Type: TypeEmail, Required: true, MapsTo: MapEmail},
	{Name: "message", Label: "Message", Type: TypeTextarea, Required: true},
}

// Defaults.
const (
	DefaultHoneypot      = "_gotcha"
	DefaultRatePerMinute = 10
	defaultMaxLen        = 10000
)

var fieldName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.\-]{0,63}$`)

// ParseConfig reads and checks a form channel's config, filling defaults.
func ParseConfig(raw json.RawMessage) (*Form, error) {
	const op = "forms.Config"
	var c Form
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, sb.Invalidf(op, "config", "the form config is not valid: %v", err)
		}
	}
	if len(c.Fields) == 0 {
		c.Fields = DefaultFields
	}
	if c.Honeypot == "" {
		c.Honeypot = DefaultHoneypot
	}
	if c.RatePerMinute <= 0 {
		c.RatePerMinute = DefaultRatePerMinute
	}
	seen := map[string]bool{}
	contactKey := false
	for i := range c.Fields {
		f := &c.Fields[i]
		field := "config.fields." + f.Name
		if !fieldName.MatchString(f.Name) {
			return nil, sb.Invalidf(op, "config.fields", "field name %q must start with a letter and use letters, digits, _ . - (at most 64)", f.Name)
		}
		if seen[f.Name] || f.Name == c.Honeypot {
			return nil, sb.Invalidf(op, field, "field %q is defined twice (or is the honeypot)", f.Name)
		}
		seen[f.Name] = true
		if f.Type == "" {
			f.Type = TypeText
		}
		switch f.Type {
		case TypeText, TypeEmail, TypePhone, TypeTextarea, TypeHidden:
		case TypeSelect:
			if len(f.Options) == 0 {
				return nil, sb.Invalidf(op, field, "select field %q needs options", f.Name)
			}
		default:
			return nil, sb.Invalidf(op, field, "field %q: type must be text, email, phone, textarea, select or hidden", f.Name)
		}
		if f.Label == "" {
			f.Label = f.Name
		}
		if f.MaxLen <= 0 {
			f.MaxLen = defaultMaxLen
		}
		switch {
		case f.MapsTo == "", f.MapsTo == MapName, f.MapsTo == MapSubject:
		case f.MapsTo == MapEmail:
			contactKey = true
			if f.Type != TypeEmail && f.Type != TypeHidden {
				return nil, sb.Invalidf(op, field, "field %q maps to contact.email, so its type must be email", f.Name)
			}
		case f.MapsTo == MapPhone:
			contactKey = true
		case strings.HasPrefix(f.MapsTo, mapTicket) && len(f.MapsTo) > len(mapTicket):
		default:
			return nil, sb.Invalidf(op, field, "field %q: maps_to must be contact.email, contact.name, contact.phone, subject or ticket.<field>", f.Name)
		}
	}
	if !contactKey {
		return nil, sb.Invalidf(op, "config.fields", "a form needs a field that maps to contact.email or contact.phone, to know who wrote")
	}
	if c.RedirectURL != "" {
		if u, err := url.Parse(c.RedirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, sb.Invalidf(op, "config.redirect_url", "config.redirect_url must be an absolute http(s) URL")
		}
	}
	return &c, nil
}

// check is the form kind's hook: a form's config must parse.
func check(ch *sb.Channel) ([]string, error) {
	_, err := ParseConfig(ch.Config)
	return nil, err
}

// FieldError is one field's problem in a submission.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Submission is a validated form submission.
type Submission struct {
	Contact struct{ Email, Name, Phone string }
	Subject string
	// Body is what the thread shows: visible fields only (R-O1).
	Body    string
	Visible map[string]string
	Hidden  map[string]string // kept on the message's meta, never in the body
	Ticket  map[string]string // ticket.<field> values, for the tickets feature
	Spam    bool              // the honeypot was filled
}

var phoneChars = regexp.MustCompile(`^\+?[0-9 ()./\-]{5,32}$`)

// Parse validates values against the form. It returns every field's
// problem at once; a filled honeypot yields Spam and nothing else.
func (c *Form) Parse(values map[string]string) (*Submission, []FieldError) {
	s := &Submission{Visible: map[string]string{}, Hidden: map[string]string{}, Ticket: map[string]string{}}
	if strings.TrimSpace(values[c.Honeypot]) != "" {
		s.Spam = true
		return s, nil
	}
	var errs []FieldError
	var body strings.Builder
	for _, f := range c.Fields {
		v, problem := f.value(values[f.Name])
		if problem != "" {
			errs = append(errs, FieldError{f.Name, problem})
			continue
		}
		if v == "" {
			continue
		}
		switch {
		case f.MapsTo == MapEmail:
			s.Contact.Email = v
		case f.MapsTo == MapName:
			s.Contact.Name = v
		case f.MapsTo == MapPhone:
			s.Contact.Phone = v
		case f.MapsTo == MapSubject:
			s.Subject = v
		case strings.HasPrefix(f.MapsTo, mapTicket):
			s.Ticket[strings.TrimPrefix(f.MapsTo, mapTicket)] = v
		}
		if f.Type == TypeHidden {
			s.Hidden[f.Name] = v
			continue
		}
		s.Visible[f.Name] = v
		if body.Len() > 0 {
			body.WriteString("\n")
		}
		if f.Type == TypeTextarea {
			body.WriteString(f.Label + ":\n" + v)
		} else {
			body.WriteString(f.Label + ": " + v)
		}
	}
	if len(errs) == 0 && s.Contact.Email == "" && s.Contact.Phone == "" {
		for _, f := range c.Fields {
			if (f.MapsTo == MapEmail || f.MapsTo == MapPhone) && f.Type != TypeHidden {
				errs = append(errs, FieldError{f.Name, "give an email address or a phone number so that we can answer"})
				break
			}
		}
		if len(errs) == 0 {
			errs = append(errs, FieldError{"", "the submission says nothing about who sent it (no email or phone)"})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if s.Subject == "" {
		s.Subject = c.Subject
	}
	if r := []rune(s.Subject); len(r) > 200 {
		s.Subject = string(r[:200])
	}
	s.Body = body.String()
	if strings.TrimSpace(s.Body) == "" {
		s.Body = "(form submitted without visible fields)"
	}
	return s, nil
}

// value normalises and checks one field's raw value: the value to keep
// ("" when empty and optional), or the problem to report.
func (f *Field) value(raw string) (string, string) {
	v := strings.TrimSpace(raw)
	if f.Type != TypeTextarea {
		v = strings.Join(strings.Fields(v), " ")
	}
	switch {
	case v == "" && f.Required:
		return "", f.Label + " is required"
	case v == "":
		return "", ""
	case len(v) > f.MaxLen:
		return "", f.Label + " is too long"
	}
	switch f.Type {
	case TypeEmail:
		if a, err := mail.ParseAddress(v); err != nil || a.Address != v || !strings.Contains(v[strings.LastIndex(v, "@"):], ".") {
			return "", f.Label + " must be an email address such as name@example.com"
		}
		v = strings.ToLower(v)
	case TypePhone:
		if !phoneChars.MatchString(v) {
			return "", f.Label + " must be a phone number"
		}
	case TypeSelect:
		if !slices.Contains(f.Options, v) {
			return "", f.Label + " must be one of the offered options"
		}
	}
	return v, ""
}
