package email_test

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/email"
)

// TestLongQuoteIsLinear: a reply with a huge quote parses quickly (the
// quote finder is linear in the number of lines).
func TestLongQuoteIsLinear(t *testing.T) {
	raw := "From: a@example.com\r\nIn-Reply-To: <x@y>\r\nSubject: Re: x\r\n\r\nok\r\n" + strings.Repeat("> quoted line\r\n", 60000)
	start := time.Now()
	m, err := email.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "ok" || !strings.HasPrefix(m.Quoted, "> quoted line") {
		t.Errorf("text %q, quoted starts %q", m.Text, m.Quoted[:20])
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("parsing a 60,000-line quote took %s", d)
	}
}
