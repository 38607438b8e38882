package email

import (
	"regexp"
	"strings"
)

// Lines that start the quoted original below a reply, as mail clients
// write them: Gmail, Apple Mail and Thunderbird's attribution ("On … wrote:",
// and its German, French, Dutch and Danish forms), Outlook's separators.
var (
	attribution = regexp.MustCompile(`(?i)^(on\s.+\swrote|am\s.+\sschrieb.*|le\s.+\sa\s+écrit|op\s.+\sschreef.*|den\s.+\sskrev.*)\s*:\s*$`)
	outlookRule = regexp.MustCompile(`^(_{10,}|-{3,}\s*original message\s*-{3,})$`)
	outlookFrom = regexp.MustCompile(`(?i)^\*?(from|von|de|van|fra)\s*:\*?\s`)
	outlookSent = regexp.MustCompile(`(?i)^\*?(sent|date|gesendet|envoyé|verzonden|sendt)\s*:\*?\s`)
)

// splitQuote splits a reply's text into what the sender wrote and the
// quoted original below it. quoted is empty when no quote is found or
// nothing would be left above it.
func splitQuote(text string) (reply, quoted string) {
	lines := strings.Split(text, "\n")
	// quotedFrom[i]: every non-empty line from i on starts with ">"
	// (one backward pass, so that long quotes cost linear time).
	quotedFrom := make([]bool, len(lines)+1)
	quotedFrom[len(lines)] = true
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		quotedFrom[i] = quotedFrom[i+1] && (l == "" || strings.HasPrefix(l, ">"))
	}
	cut := -1
	for i := 1; i < len(lines) && cut < 0; i++ {
		l := strings.TrimSpace(lines[i])
		switch {
		case quotedFrom[i+1] && attribution.MatchString(l):
			cut = i // an answer interleaved with the quote keeps it all
		case i+1 < len(lines) && quotedFrom[i+2] && attribution.MatchString(l+" "+strings.TrimSpace(lines[i+1])):
			cut = i // an attribution wrapped over two lines
		case outlookRule.MatchString(l):
			cut = i
		case outlookFrom.MatchString(l) && i+1 < len(lines) && outlookSent.MatchString(strings.TrimSpace(lines[i+1])):
			cut = i
		case strings.HasPrefix(l, ">") && quotedFrom[i]:
			cut = i
		}
	}
	if cut < 0 {
		return text, ""
	}
	reply = strings.TrimSpace(strings.Join(lines[:cut], "\n"))
	if reply == "" {
		return text, ""
	}
	return reply, strings.TrimSpace(strings.Join(lines[cut:], "\n"))
}
