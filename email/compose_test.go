package email_test

import (
	"strings"
	"testing"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/email"
)

// TestFromName is R-E3's From name: "agent and company" or "company".
func TestFromName(t *testing.T) {
	acct := &sb.Account{Name: "Acme"}
	ada := &sb.User{Name: "Ada Lovelace"}
	tests := []struct {
		mode   string
		author *sb.User
		want   string
	}{
		{"", ada, "Ada Lovelace at Acme"},
		{app.FromAgentAndCompany, ada, "Ada Lovelace at Acme"},
		{app.FromCompany, ada, "Acme"},
		{app.FromAgentAndCompany, nil, "Acme"}, // no author (a system message)
	}
	for _, tt := range tests {
		if got := email.FromName(app.EmailConfig{FromNameMode: tt.mode}, acct, tt.author); got != tt.want {
			t.Errorf("Rule R-E3: FromName(%q) = %q, want %q", tt.mode, got, tt.want)
		}
	}
}

// TestReplyBody is R-E3's signature: tokens replaced, plain or HTML (then
// sanitized and HTML-escaped names).
func TestReplyBody(t *testing.T) {
	evil := &sb.User{Name: "Eve <script>x</script> Mallory"}
	text, html := email.ReplyBody("Hi", app.EmailConfig{Signature: "{{first_name}} / {{last_name}} / {{full_name}}"}, &sb.User{Name: "Ada King Lovelace"})
	if text != "Hi\n\n-- \nAda / King Lovelace / Ada King Lovelace" || html != "" {
		t.Errorf("plain signature: %q, %q", text, html)
	}
	text, html = email.ReplyBody("1 < 2", app.EmailConfig{Signature: `<p onclick="x()">{{full_name}}</p><script>alert(1)</script>`, SignatureHTML: true}, evil)
	if strings.Contains(html, "<script") || strings.Contains(html, "onclick") || !strings.Contains(html, "1 &lt; 2") || !strings.Contains(html, "Eve &lt;script&gt;") {
		t.Errorf("HTML signature not sanitized or escaped: %s", html)
	}
	if !strings.Contains(text, "-- \nEve <script>x</script> Mallory") {
		t.Errorf("text version of the HTML signature: %q", text)
	}
	if text, html := email.ReplyBody("no sig", app.EmailConfig{}, evil); text != "no sig" || html != "" {
		t.Errorf("without a signature: %q, %q", text, html)
	}
}

// TestOurMessageID: our Message-IDs round-trip to message ids whatever
// the domain; others are not ours.
func TestOurMessageID(t *testing.T) {
	const id = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
	mid := email.MessageIDFor(id, "acme.test")
	if mid != "sb."+id+"@acme.test" {
		t.Fatalf("MessageIDFor = %q", mid)
	}
	for in, want := range map[string]string{
		mid: id, "<" + mid + ">": id, "sb." + id + "@other.example": id,
		"sb.not-a-uuid@acme.test": "", "CAF123@mail.example.com": "", "sb." + id: "",
	} {
		got, ok := email.OurMessageID(in)
		if got != want || ok != (want != "") {
			t.Errorf("OurMessageID(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
