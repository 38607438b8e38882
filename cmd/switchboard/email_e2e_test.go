package main_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/email"
	"github.com/switchboard-dev/switchboard/internal/smtpsink"
)

// swaksPath returns Debian's swaks, or skips (fails under CI=true).
func swaksPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("swaks")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("swaks is not installed (apt-get install swaks); CI must run the email end-to-end tests")
		}
		t.Skip("swaks is not installed (apt-get install swaks): skipping the email end-to-end test")
	}
	return p
}

// swaks sends one message with swaks and returns its exit code and output.
func swaks(t *testing.T, server string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, swaksPath(t), append([]string{"--server", server, "--timeout", "20"}, args...)...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatalf("running swaks: %v\n%s", err, out)
	}
	return 0, string(out)
}

// smtpAddr waits for the server's SMTP listener address in its log.
func (s *server) smtpAddr(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if a := s.logField("the SMTP listener is listening", "addr"); a != "" {
			return a
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never logged its SMTP address", s.name)
	return ""
}

type message struct {
	ID             string          `json:"id"`
	Direction      string          `json:"direction"`
	Body           string          `json:"body"`
	ExternalID     string          `json:"external_id"`
	Delivery       string          `json:"delivery"`
	DeliveryDetail string          `json:"delivery_detail"`
	Meta           json.RawMessage `json:"meta"`
}

// TestEmailEndToEnd runs the email channel against the real binary on
// SQLite and PostgreSQL: swaks and net/smtp send real mail to the
// listener, the API replies, and the reply arrives at a relay sink.
func TestEmailEndToEnd(t *testing.T) {
	swaksPath(t)
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			t.Run("R-E1_R-E2_R-E3_R-E4_R-A6_SwaksToReplyAndBack", func(t *testing.T) {
				t.Parallel()
				testEmail(t, db.dsn(t))
			})
			t.Run("LoadToolOverSMTP", func(t *testing.T) {
				t.Parallel()
				testLoadSMTP(t, db.dsn(t))
			})
			t.Run("StartTLSAndAuthFlags", func(t *testing.T) {
				t.Parallel()
				testSMTPTLSFlags(t, db.dsn(t))
			})
		})
	}
}

// testLoadSMTP runs `switchboard load --smtp`: every message sent by SMTP
// becomes a routed conversation.
func testLoadSMTP(t *testing.T, dsn string) {
	s := startServer(t, "serve", dsn, "--data-dir", t.TempDir())
	res := runCmd(t, 2*time.Minute, nil, "load", "--url", s.URL, "--smtp", s.smtpAddr(t), "--email", adminEmail, "--password", adminPassword,
		"--agents", "5", "--clients", "8", "--requests", "200", "--json")
	if res.code != 0 {
		t.Fatalf("switchboard load --smtp exited %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	var rep struct {
		Requests      int `json:"requests"`
		Errors        int `json:"errors"`
		Conversations int `json:"conversations"`
		Unassigned    int `json:"unassigned"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("no JSON report: %v\n%s", err, res.stdout)
	}
	if rep.Requests != 200 || rep.Errors != 0 || rep.Conversations != 200 || rep.Unassigned != 0 {
		t.Errorf("load --smtp report: %+v; want 200 messages, 0 errors, 200 routed conversations\n%s", rep, res.stderr)
	}
}

func testEmail(t *testing.T, dsn string) {
	dataDir := t.TempDir()
	s := startServer(t, "serve", dsn, "--data-dir", dataDir, "--smtp-hostname", "mx.e2e.test")
	smtpAddr := s.smtpAddr(t)
	sink := smtpsink.Start(t)
	f := setUpRouting(t, s.URL, 2, 0, "email")
	admin := f.admin

	// The relay settings; the password is never returned.
	var relay map[string]any
	admin.must(t, "PUT", "/api/v1/settings/smtp", map[string]any{"host": sink.Host, "port": sink.Port, "tls": "none", "username": "", "password": "top-secret", "from_address": "bounces@e2e.test"}, &relay)
	if _, ok := relay["password"]; ok || relay["password_set"] != true {
		t.Errorf("PUT /api/v1/settings/smtp answered %v: the password must be write-only", relay)
	}
	// With a password set the sender would try AUTH, which the sink does not offer: remove it.
	admin.must(t, "PUT", "/api/v1/settings/smtp", map[string]any{"host": sink.Host, "port": sink.Port, "tls": "none", "password": "", "from_address": "bounces@e2e.test"}, nil)

	// R-E2: a team address cannot be an agent's address, nor the reverse;
	// an address belongs to one channel.
	_, err := admin.call("PATCH", "/api/v1/channels/"+f.channel, map[string]any{"config": map[string]any{"address": "agent1@e2e.test"}}, nil)
	if ae, ok := err.(*apiError); !ok || ae.status != 422 || !strings.Contains(ae.body, "address_is_personal") {
		t.Errorf("R-E2: PATCH with an agent's address: %v, want 422 address_is_personal", err)
	}
	admin.must(t, "PATCH", "/api/v1/channels/"+f.channel, map[string]any{"config": map[string]any{
		"address": "support@e2e.test", "signature": "-- {{first_name}} from E2E",
	}}, nil)
	_, err = admin.call("POST", "/api/v1/users", map[string]any{"email": "Support@e2e.test", "name": "S", "role": "agent", "password": "agent-password"}, nil)
	if ae, ok := err.(*apiError); !ok || ae.status != 422 || !strings.Contains(ae.body, "address_is_team_address") {
		t.Errorf("R-E2: a user with the team address: %v, want 422 address_is_team_address", err)
	}
	var inbox idOnly
	admin.must(t, "POST", "/api/v1/inboxes", map[string]any{"name": "Other", "team_ids": []string{}}, &inbox)
	_, err = admin.call("POST", "/api/v1/inboxes/"+inbox.ID+"/channels", map[string]any{"kind": "email", "name": "dup", "config": map[string]any{"address": "support@e2e.test"}}, nil)
	if ae, ok := err.(*apiError); !ok || ae.status != 409 || !strings.Contains(ae.body, "address_taken") {
		t.Errorf("a second channel with the same address: %v, want 409 address_taken", err)
	}

	// R-E1, R-E4, R-A6: swaks sends to the team address; the mail becomes a
	// routed conversation with a new contact.
	attach := filepath.Join(t.TempDir(), "invoice.txt")
	if err := os.WriteFile(attach, []byte("invoice 42: 10 EUR\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := swaks(t, smtpAddr, "--from", "alice@example.com", "--to", "support@e2e.test",
		"--header", "Subject: Kettle missing", "--header", "Message-Id: <swaks-1@example.com>",
		"--header", "From: Alice Example <alice@example.com>", "--body", "Where is my kettle?", "--attach", "@"+attach)
	if code != 0 {
		t.Fatalf("swaks exited %d:\n%s", code, out)
	}
	convs := listConversations(t, admin, "open")
	if len(convs) != 1 {
		t.Fatalf("%d conversations after one email, want 1", len(convs))
	}
	c := convs[0]
	if c.ChannelID != f.channel || (c.AssigneeID != f.agents[0] && c.AssigneeID != f.agents[1]) {
		t.Fatalf("R-A6: conversation %+v, want on the email channel and assigned to one of its two agents", c)
	}
	var contact struct {
		Email, Name string
	}
	admin.must(t, "GET", "/api/v1/contacts/"+c.ContactID, nil, &contact)
	if contact.Email != "alice@example.com" || contact.Name != "Alice Example" {
		t.Errorf("R-E4: contact %+v", contact)
	}
	msgs := threadOf(t, admin, c.ID)
	var meta email.Meta
	if err := json.Unmarshal(msgs[0].Meta, &meta); err != nil || len(meta.Attachments) != 1 || meta.Attachments[0].Filename != "invoice.txt" {
		t.Fatalf("meta %s: want the attachment invoice.txt (%v)", msgs[0].Meta, err)
	}
	if _, ok := email.NewFiles(dataDir).Path(meta.Attachments[0].SHA256); !ok {
		t.Errorf("bad sha256 %q", meta.Attachments[0].SHA256)
	} else if file, err := email.NewFiles(dataDir).Open(meta.Attachments[0].SHA256); err != nil {
		t.Errorf("the attachment is not under --data-dir: %v", err)
	} else {
		file.Close()
	}

	// The agent replies through the API; the reply reaches the relay,
	// threaded (R-E3).
	var rep struct {
		Message message `json:"message"`
	}
	admin.must(t, "POST", "/api/v1/conversations/"+c.ID+"/messages", map[string]any{"body": "It ships today."}, &rep)
	got := sink.Next(t, 15*time.Second)
	m, err := email.Parse(got.Data)
	if err != nil {
		t.Fatal(err)
	}
	wantID := "sb." + rep.Message.ID + "@e2e.test"
	if m.MessageID != wantID || len(m.InReplyTo) != 1 || m.InReplyTo[0] != "swaks-1@example.com" || m.Subject != "Re: Kettle missing" ||
		m.From.Email != "support@e2e.test" || m.From.Name != "Admin at E2E" || got.To[0] != "alice@example.com" || !strings.Contains(m.Text, "-- Admin from E2E") {
		t.Errorf("the reply: Message-ID %q, In-Reply-To %v, Subject %q, From %+v, To %v, text %q", m.MessageID, m.InReplyTo, m.Subject, m.From, got.To, m.Text)
	}
	waitFor(t, "the reply is marked sent", func() bool {
		for _, msg := range threadOf(t, admin, c.ID) {
			if msg.ID == rep.Message.ID {
				return msg.Delivery == "sent"
			}
		}
		return false
	})

	// The contact answers the reply (Go's net/smtp this time): it joins.
	reply := "From: alice@example.com\r\nTo: support@e2e.test\r\nSubject: Re: Kettle missing\r\nMessage-ID: <swaks-2@example.com>\r\n" +
		"In-Reply-To: <" + wantID + ">\r\nReferences: <swaks-1@example.com> <" + wantID + ">\r\n\r\nThanks, it arrived!\r\n"
	if err := smtp.SendMail(smtpAddr, nil, "alice@example.com", []string{"support@e2e.test"}, []byte(reply)); err != nil {
		t.Fatal(err)
	}
	if convs := listConversations(t, admin, "open"); len(convs) != 1 || len(threadOf(t, admin, c.ID)) != 3 {
		t.Errorf("the contact's answer did not join: %d conversations, %d messages", len(convs), len(threadOf(t, admin, c.ID)))
	}

	// Unknown recipients are refused at RCPT.
	code, out = swaks(t, smtpAddr, "--from", "alice@example.com", "--to", "nobody@e2e.test", "--body", "hi")
	if code == 0 || !strings.Contains(out, "<** 550") {
		t.Errorf("swaks to an unknown recipient exited %d:\n%s", code, out)
	}
	err = smtp.SendMail(smtpAddr, nil, "a@example.com", []string{"nobody@e2e.test"}, []byte("Subject: x\r\n\r\nx\r\n"))
	if te, ok := err.(*textproto.Error); !ok || te.Code != 550 {
		t.Errorf("net/smtp to an unknown recipient: %v, want 550", err)
	}

	// A graceful stop closes the listener.
	if code := s.stop(20 * time.Second); code != 0 {
		t.Errorf("serve exited %d on SIGTERM, want 0", code)
	}
	if c, err := net.DialTimeout("tcp", smtpAddr, time.Second); err == nil {
		c.Close()
		t.Errorf("the SMTP listener still accepts connections after the server stopped")
	}
}

func threadOf(t *testing.T, c *client, convID string) []message {
	t.Helper()
	var p page[message]
	c.must(t, "GET", "/api/v1/conversations/"+convID+"/messages", nil, &p)
	return p.Items
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testSMTPTLSFlags: --smtp-tls-cert/--smtp-tls-key offer STARTTLS and
// --smtp-auth-user/--smtp-auth-password require AUTH; swaks delivers with
// both and is refused without AUTH.
func testSMTPTLSFlags(t *testing.T, dsn string) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeSelfSigned(t, certFile, keyFile)
	s := startServer(t, "serve", dsn, "--data-dir", dir, "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile,
		"--smtp-auth-user", "relay", "--smtp-auth-password", "relay-secret")
	addr := s.smtpAddr(t)
	f := setUpRouting(t, s.URL, 1, 0, "email")
	f.admin.must(t, "PATCH", "/api/v1/channels/"+f.channel, map[string]any{"config": map[string]any{"address": "support@e2e.test"}}, nil)
	args := []string{"--from", "a@example.com", "--to", "support@e2e.test", "--header", "Subject: over TLS", "--body", "hello"}
	if code, out := swaks(t, addr, args...); code == 0 || !strings.Contains(out, "530") {
		t.Errorf("swaks without AUTH exited %d, want a 530 refusal:\n%s", code, out)
	}
	code, out := swaks(t, addr, append(args, "--tls", "--auth", "PLAIN", "--auth-user", "relay", "--auth-password", "relay-secret")...)
	if code != 0 {
		t.Fatalf("swaks --tls --auth exited %d:\n%s", code, out)
	}
	if convs := listConversations(t, f.admin, "open"); len(convs) != 1 {
		t.Errorf("%d conversations after the authenticated mail, want 1", len(convs))
	}
}

// writeSelfSigned writes a PEM certificate for 127.0.0.1 and its key.
func writeSelfSigned(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mx.e2e.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
}
