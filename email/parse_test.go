package email_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard-dev/switchboard/email"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// golden is what a corpus message parses to.
type golden struct {
	Error      string         `json:"error,omitempty"`
	ExternalID string         `json:"external_id,omitempty"`
	Message    *email.Message `json:"message,omitempty"`
}

// TestCorpus parses every real-world-shaped message under
// testdata/corpus and compares the result with its golden JSON (go test
// -update rewrites them).
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*.eml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("the corpus has %d messages, want at least 20", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var g golden
			m, err := email.Parse(raw)
			if err != nil {
				g.Error = err.Error()
			} else {
				g.Message, g.ExternalID = m, m.ExternalID()
			}
			got, err := json.MarshalIndent(g, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./email -run TestCorpus -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from its golden file (-want +got):\n%s", name, cmp.Diff(string(want), string(got)))
			}
		})
	}
}

// TestParseSpecifics checks the corpus results a reader of the goldens
// would otherwise have to trust.
func TestParseSpecifics(t *testing.T) {
	parse := func(name string) *email.Message {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join("testdata", "corpus", name+".eml"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := email.Parse(raw)
		if err != nil {
			t.Fatalf("Parse(%s): %v", name, err)
		}
		return m
	}
	t.Run("HTMLIsSanitized", func(t *testing.T) {
		for _, name := range []string{"02-multipart-alternative", "03-html-only"} {
			m := parse(name)
			for _, bad := range []string{"<script", "onload", "onclick", "javascript:", "<iframe", "<style"} {
				if strings.Contains(strings.ToLower(m.HTML), bad) {
					t.Errorf("%s: sanitized HTML still has %q: %s", name, bad, m.HTML)
				}
			}
			if m.HTML == "" {
				t.Errorf("%s: HTML dropped entirely", name)
			}
		}
		if m := parse("03-html-only"); !strings.Contains(m.Text, "see ticket 9") || strings.Contains(m.Text, "<p>") {
			t.Errorf("text derived from HTML-only mail = %q", m.Text)
		}
	})
	t.Run("CharsetsAndEncodedWords", func(t *testing.T) {
		m := parse("06-iso-8859-1")
		if m.Subject != "Beschädigte Lieferung" || m.From.Name != "Jürgen Müller" || !strings.Contains(m.Text, "Grüße aus Köln") {
			t.Errorf("ISO-8859-1: subject %q, from %q, text %q", m.Subject, m.From.Name, m.Text)
		}
		m = parse("07-utf8-encoded-words")
		if m.From.Name != "電子 文書" || !strings.HasPrefix(m.Subject, "🎉 Commande reçue") || !strings.Contains(m.Text, "ご注文") {
			t.Errorf("UTF-8: subject %q, from %q, text %q", m.Subject, m.From.Name, m.Text)
		}
		m = parse("17-windows-1252")
		if m.Subject != "“Smart” quotes – and a € sign" || !strings.Contains(m.Text, "€12") {
			t.Errorf("windows-1252: subject %q, text %q", m.Subject, m.Text)
		}
	})
	t.Run("Forwards", func(t *testing.T) {
		for name, want := range map[string]string{
			"10-gmail-forward": "frank@customer.example", "11-outlook-forward": "grace@navy.example",
			"12-apple-forward": "heidi@partner.example", "13-rfc822-forward": "ivan@quit.example",
			"24-thunderbird-forward": "rita@refund.example",
		} {
			m := parse(name)
			if m.Forwarded == nil || m.Forwarded.From.Email != want {
				t.Errorf("%s: forwarded = %+v, want from %s", name, m.Forwarded, want)
			}
		}
		// Outlook writes the same block above a quoted reply: not a forward.
		if m := parse("09-outlook-reply"); m.Forwarded != nil {
			t.Errorf("an Outlook reply was taken for a forward: %+v", m.Forwarded)
		}
	})
	t.Run("ReplyQuotes", func(t *testing.T) {
		for name, want := range map[string]string{
			"08-gmail-reply": "Thank you, it arrived today!", "09-outlook-reply": "Yes, please renew for 20 seats.\n\nEve",
			"28-german-reply-wrapped": "Vielen Dank, das hat geholfen.", "29-mutt-quote": "Works now, thanks.",
		} {
			if m := parse(name); m.Text != want || m.Quoted == "" {
				t.Errorf("%s: text %q (quoted %q), want %q above the quote", name, m.Text, m.Quoted, want)
			}
		}
		// Answers between the quoted lines keep the whole text.
		if m := parse("27-interleaved-reply"); m.Quoted != "" || !strings.Contains(m.Text, "In March.") {
			t.Errorf("an interleaved reply was cut: text %q, quoted %q", m.Text, m.Quoted)
		}
		// A forward keeps the forwarded original in the text (R-E5).
		if m := parse("10-gmail-forward"); m.Quoted != "" || !strings.Contains(m.Text, "My blender broke") {
			t.Errorf("a forward was cut: %q", m.Text)
		}
	})
	t.Run("Bounce", func(t *testing.T) {
		m := parse("14-bounce-dsn")
		if m.Bounce == nil || m.Bounce.Action != "failed" || m.Bounce.OriginalMessageID != "sb.01936b00-aaaa-7bbb-8ccc-dddddddddddd@acme.test" {
			t.Errorf("bounce = %+v", m.Bounce)
		}
	})
	t.Run("ExternalID", func(t *testing.T) {
		a, b := parse("15-no-message-id"), parse("15-no-message-id")
		if a.MessageID != "" || a.ExternalID() != b.ExternalID() || !strings.HasPrefix(a.ExternalID(), "sha256-") {
			t.Errorf("no Message-ID: external ids %q, %q", a.ExternalID(), b.ExternalID())
		}
		if m := parse("01-plain-ascii"); m.ExternalID() != "CAF1234567890@mail.example.com" {
			t.Errorf("ExternalID = %q", m.ExternalID())
		}
	})
	t.Run("Attachments", func(t *testing.T) {
		m := parse("23-rfc2231-filename")
		if len(m.Attachments) != 1 || m.Attachments[0].Filename != "Rechnung März.pdf" || len(m.Attachments[0].SHA256) != 64 {
			t.Errorf("attachments = %+v", m.Attachments)
		}
		m = parse("04-inline-image")
		if len(m.Attachments) != 1 || !m.Attachments[0].Inline || m.Attachments[0].ContentID != "ii_error@photos" {
			t.Errorf("inline image = %+v", m.Attachments)
		}
	})
	t.Run("Unparseable", func(t *testing.T) {
		raw, _ := os.ReadFile("testdata/corpus/25-not-a-message.eml")
		if _, err := email.Parse(raw); !errors.Is(err, email.ErrUnparseable) {
			t.Errorf("Parse(not a message) = %v, want ErrUnparseable", err)
		}
	})
}

// FuzzParse: no input makes Parse panic, and what it returns keeps its
// promises (text never empty, valid UTF-8, bounded). The corpus is the
// seed, so a plain go test runs every seed.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/corpus/*.eml")
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte("From: a@b\n\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\n\n--x\n--x--"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := email.Parse(raw)
		if err != nil {
			if !errors.Is(err, email.ErrUnparseable) {
				t.Fatalf("Parse returned %v, not ErrUnparseable", err)
			}
			return
		}
		if strings.TrimSpace(m.Text) == "" || len(m.Text) > email.MaxBody {
			t.Fatalf("text of %d bytes: %q", len(m.Text), m.Text)
		}
		if id := m.ExternalID(); id == "" || len(id) > 512 {
			t.Fatalf("external id %q", id)
		}
		if _, err := json.Marshal(m); err != nil {
			t.Fatalf("marshal: %v", err)
		}
	})
}
