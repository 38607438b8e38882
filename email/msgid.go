package email

import (
	"strings"

	"github.com/google/uuid"
)

// ourPrefix starts the local part of every Message-ID Switchboard makes.
const ourPrefix = "sb."

// MessageIDFor is the Message-ID (without angle brackets) of our message
// id, sent from domain: deterministic, so that a retried send has the same
// id and a reply's References lead back to the message.
func MessageIDFor(messageID, domain string) string {
	if domain == "" {
		domain = "switchboard.invalid"
	}
	return ourPrefix + messageID + "@" + domain
}

// OurMessageID returns the message id inside a Message-ID that
// MessageIDFor made, whatever its domain.
func OurMessageID(msgID string) (string, bool) {
	local, _, ok := strings.Cut(strings.Trim(msgID, "<> "), "@")
	if !ok || !strings.HasPrefix(local, ourPrefix) {
		return "", false
	}
	id := local[len(ourPrefix):]
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return "", false
	}
	return id, true
}
