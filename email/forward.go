package email

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/jhillyerd/enmime/v2"
)

// Forward markers mail clients put above the original message, and the
// source each stands for. Matched on a whole line, case-insensitively.
var forwardMarkers = []struct {
	re     *regexp.Regexp
	source string
}{
	{regexp.MustCompile(`(?i)^-{5,}\s*forwarded message\s*-{5,}$`), "gmail"},
	{regexp.MustCompile(`(?i)^begin forwarded message:?$`), "apple"},
	{regexp.MustCompile(`(?i)^-{3,}\s*original message\s*-{3,}$`), "outlook"},
	{regexp.MustCompile(`^_{10,}$`), "outlook"},
	{regexp.MustCompile(`(?i)^-{3,}\s*(weitergeleitete nachricht|message transféré|doorgestuurd bericht|videresendt meddelelse)\s*-{3,}$`), "gmail"},
}

// forwardSubject matches the subject prefixes of forwards in common
// languages (Fwd, Fw, WG, TR, RV, Doorst, VS).
var forwardSubject = regexp.MustCompile(`(?i)^\s*(fwd?|wg|tr|rv|doorst|vs|vb)\s*:`)

// findForwarded finds the original sender of a forward: an attached
// message/rfc822 first, then a header block below a marker line. A block
// after Outlook's underscore line counts only with a forward subject,
// because Outlook writes the same block above quoted replies.
func findForwarded(m *Message, env *enmime.Envelope) *Forwarded {
	if env.Root != nil {
		if p := env.Root.BreadthMatchFirst(func(p *enmime.Part) bool { return p.ContentType == "message/rfc822" }); p != nil {
			if oe, err := parser.ReadEnvelope(bytes.NewReader(p.Content)); err == nil {
				if from := addresses(oe, "From"); len(from) > 0 {
					return &Forwarded{From: from[0], Subject: oneLine(oe.GetHeader("Subject")), Date: oneLine(oe.GetHeader("Date")), Source: "rfc822"}
				}
			}
		}
	}
	fwdSubject := forwardSubject.MatchString(m.Subject)
	lines := strings.Split(m.Text, "\n")
	for i, line := range lines {
		l := strings.TrimSpace(strings.TrimLeft(line, "> "))
		for _, mk := range forwardMarkers {
			if !mk.re.MatchString(l) {
				continue
			}
			if mk.source == "outlook" && !fwdSubject {
				break
			}
			if f := headerBlock(lines[i+1:]); f != nil {
				f.Source = mk.source
				if mk.source == "gmail" && f.firstField == "subject" {
					f.Source = "thunderbird"
				}
				return &f.Forwarded
			}
			break
		}
	}
	return nil
}

type block struct {
	Forwarded
	firstField string
}

// headerBlock reads "From:", "Subject:", "Date:"/"Sent:" lines (possibly
// bold-marked *From:* by an HTML-to-text conversion, or quoted) starting
// at the first non-empty line.
func headerBlock(lines []string) *block {
	var b block
	n := 0
	for _, line := range lines {
		l := strings.TrimSpace(strings.TrimLeft(line, "> "))
		l = strings.ReplaceAll(l, "*", "")
		if l == "" {
			if n == 0 {
				continue
			}
			break
		}
		if n++; n > 12 {
			break
		}
		name, val, ok := strings.Cut(l, ":")
		if !ok {
			break
		}
		field := strings.ToLower(strings.TrimSpace(name))
		if b.firstField == "" {
			b.firstField = field
		}
		val = strings.TrimSpace(val)
		switch field {
		case "from", "von", "de", "van", "fra":
			if a := looseAddress(val); a != nil {
				b.From = Address{Name: oneLine(a.Name), Email: strings.ToLower(a.Address)}
			}
		case "subject", "betreff", "objet", "onderwerp", "emne":
			b.Subject = oneLine(val)
		case "date", "sent", "datum", "gesendet", "envoyé", "verzonden", "sendt":
			b.Date = oneLine(val)
		}
	}
	if b.From.Email == "" {
		return nil
	}
	return &b
}
