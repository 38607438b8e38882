package email_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/email"
)

// TestRefusals: unknown recipients at RCPT (550), too large (552), no
// header at all (554); nothing is stored.
func TestRefusals(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, envOpts{server: func(c *email.ServerConfig) { c.MaxMessageBytes = 4096 }})
		e.emailChannel(`{"address":"support@acme.test"}`, sb.RoutingRule{})
		if err := e.send("a@example.com", []string{"nobody@acme.test"}, mail("a@example.com", "nobody@acme.test", "x", "u1@x", "", "hi")); smtpCode(err) != 550 {
			t.Errorf("unknown recipient: %v, want 550", err)
		}
		big := mail("a@example.com", "support@acme.test", "big", "big@x", "", strings.Repeat("0123456789abcdef\n", 400))
		if err := e.send("a@example.com", []string{"support@acme.test"}, big); smtpCode(err) != 552 {
			t.Errorf("too large: %v, want 552", err)
		}
		if err := e.send("a@example.com", []string{"support@acme.test"}, "no header here at all\n\njust text"); smtpCode(err) != 554 {
			t.Errorf("unparseable: %v, want 554", err)
		}
		// The channel's own address as sender would loop.
		if err := e.send("support@acme.test", []string{"support@acme.test"}, mail("support@acme.test", "support@acme.test", "loop", "loop@x", "", "hi")); smtpCode(err) != 554 {
			t.Errorf("loop: %v, want 554", err)
		}
		if n := len(e.conversations()); n != 0 {
			t.Errorf("%d conversations stored from refused mail", n)
		}
		// A +tag reaches the address without it.
		e.mustSend("a@example.com", []string{"support+billing@acme.test"}, mail("a@example.com", "support+billing@acme.test", "tagged", "tag@x", "", "hi"))
		if n := len(e.conversations()); n != 1 {
			t.Errorf("plus-addressed mail: %d conversations, want 1", n)
		}
	})
}

// TestConnectionLimits: one address gets at most MaxConnsPerIP
// connections; more are answered 421.
func TestConnectionLimits(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir()+"/limits.db", envOpts{server: func(c *email.ServerConfig) { c.MaxConnsPerIP = 2 }})
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	greet := func() string {
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 256)
		n, _ := c.Read(buf)
		return string(buf[:n])
	}
	for i := range 2 {
		if g := greet(); !strings.HasPrefix(g, "220 ") {
			t.Fatalf("connection %d greeted %q, want 220", i+1, g)
		}
	}
	if g := greet(); !strings.HasPrefix(g, "421 4.7.0") {
		t.Errorf("third connection greeted %q, want 421 4.7.0", g)
	}
	conns[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		g := greet()
		if strings.HasPrefix(g, "220 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after closing one, a new connection still gets %q", g)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMessageRatePerIP: with MessagesPerMinutePerIP set, one address may
// start that many messages at once; the next is answered 450 4.7.1 at
// MAIL, so the sender retries later, and nothing of it is stored.
func TestMessageRatePerIP(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir()+"/rate.db", envOpts{server: func(c *email.ServerConfig) { c.MessagesPerMinutePerIP = 2 }})
	e.emailChannel(`{"address":"support@acme.test"}`, sb.RoutingRule{})
	for i := range 2 {
		id := "rate" + strconv.Itoa(i) + "@x"
		e.mustSend("a@example.com", []string{"support@acme.test"}, mail("a@example.com", "support@acme.test", "hi", id, "", "hi"))
	}
	err := e.send("a@example.com", []string{"support@acme.test"}, mail("a@example.com", "support@acme.test", "hi", "rate2@x", "", "hi"))
	if smtpCode(err) != 450 || !strings.Contains(err.Error(), "4.7.1") {
		t.Fatalf("third message in a minute at 2 a minute: %v, want 450 4.7.1", err)
	}
	if n := len(e.conversations()); n != 2 {
		t.Fatalf("%d conversations, want the 2 allowed messages'", n)
	}
}

// TestAuthRequired: with AUTH configured, MAIL needs it (530), and the
// right credentials deliver.
func TestAuthRequired(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir()+"/auth.db", envOpts{server: func(c *email.ServerConfig) { c.AuthUser, c.AuthPassword = "relay", "pw" }})
	e.emailChannel(`{"address":"support@acme.test"}`, sb.RoutingRule{})
	msg := []byte(strings.ReplaceAll(mail("a@example.com", "support@acme.test", "x", "a1@x", "", "hi"), "\n", "\r\n"))
	if err := smtp.SendMail(e.addr, nil, "a@example.com", []string{"support@acme.test"}, msg); smtpCode(err) != 530 {
		t.Errorf("without AUTH: %v, want 530", err)
	}
	if err := smtp.SendMail(e.addr, smtp.PlainAuth("", "relay", "wrong", "127.0.0.1"), "a@example.com", []string{"support@acme.test"}, msg); smtpCode(err) != 535 {
		t.Errorf("wrong password: %v, want 535", err)
	}
	if err := smtp.SendMail(e.addr, smtp.PlainAuth("", "relay", "pw", "127.0.0.1"), "a@example.com", []string{"support@acme.test"}, msg); err != nil {
		t.Errorf("with AUTH: %v", err)
	}
	if n := len(e.conversations()); n != 1 {
		t.Errorf("%d conversations, want 1", n)
	}
}

// TestGracefulShutdown: Shutdown answers an idle connection 421 at once,
// lets a transaction in flight finish with 250, then refuses connections.
func TestGracefulShutdown(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir()+"/shutdown.db")
	e.emailChannel(`{"address":"support@acme.test"}`, sb.RoutingRule{})
	srv, addr := e.extraServer(t)
	idle, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if err := idle.Hello("idle.test"); err != nil {
		t.Fatal(err)
	}
	busy, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if err := busy.Mail("a@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := busy.Rcpt("support@acme.test"); err != nil {
		t.Fatal(err)
	}
	w, err := busy.Data()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	// Shutdown has begun once the listener refuses connections.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts after Shutdown began")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The idle connection is told to go.
	if err := idle.Noop(); err == nil || smtpCode(err) != 421 && !strings.Contains(err.Error(), "EOF") {
		t.Errorf("idle connection after shutdown: %v, want 421 or closed", err)
	}
	// The transaction in flight completes.
	if _, err := w.Write([]byte(strings.ReplaceAll(mail("a@example.com", "support@acme.test", "late", "late@x", "", "in flight"), "\n", "\r\n"))); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("the message in flight during shutdown: %v, want 250", err)
	}
	busy.Quit()
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if n := len(e.conversations()); n != 1 {
		t.Errorf("%d conversations, want the one in flight", n)
	}
}

// TestInflightBudget: past the in-flight byte budget DATA is answered 452
// (try later), within it mail goes through.
func TestInflightBudget(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir()+"/budget.db", envOpts{server: func(c *email.ServerConfig) { c.MaxInflightBytes = 2000 }})
	e.emailChannel(`{"address":"support@acme.test"}`, sb.RoutingRule{})
	big := mail("a@example.com", "support@acme.test", "big", "big@x", "", strings.Repeat("0123456789abcdef\n", 200))
	if err := e.send("a@example.com", []string{"support@acme.test"}, big); smtpCode(err) != 452 {
		t.Errorf("over the budget: %v, want 452", err)
	}
	// The budget was given back: small mail still passes, repeatedly.
	for i := range 3 {
		if err := e.send("a@example.com", []string{"support@acme.test"}, mail("a@example.com", "support@acme.test", "small", fmt.Sprintf("s%d@x", i), "", "hi")); err != nil {
			t.Fatalf("small mail %d: %v", i, err)
		}
	}
}

// selfSigned makes a certificate for 127.0.0.1.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mx.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestStartTLSAndAuth: with a certificate the listener offers STARTTLS,
// and AUTH only over it; a relay authenticating after STARTTLS delivers.
func TestStartTLSAndAuth(t *testing.T) {
	cert := selfSigned(t)
	e := newEnv(t, "sqlite:"+t.TempDir()+"/tls.db", envOpts{server: func(c *email.ServerConfig) {
		c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		c.AuthUser, c.AuthPassword = "relay", "pw"
	}})
	e.emailChannel(`{"address":"support@acme.test"}`, sb.RoutingRule{})
	c, err := smtp.Dial(e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("relay.test"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS is not offered")
	}
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("AUTH is offered before STARTTLS")
	}
	if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("AUTH"); !ok {
		t.Fatal("AUTH is not offered after STARTTLS")
	}
	if err := c.Auth(smtp.PlainAuth("", "relay", "pw", "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("a@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("support@acme.test"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(strings.ReplaceAll(mail("a@example.com", "support@acme.test", "over TLS", "tls1@x", "", "secret"), "\n", "\r\n")))
	if err := w.Close(); err != nil {
		t.Fatalf("DATA over TLS: %v", err)
	}
	c.Quit()
	if n := len(e.conversations()); n != 1 {
		t.Errorf("%d conversations, want 1", n)
	}
}
