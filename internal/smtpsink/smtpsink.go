// Package smtpsink is an SMTP server for tests: it accepts mail on
// 127.0.0.1 and hands every message to the test, or refuses it with a
// code the test chose. It stands in for an account's outbound relay.
package smtpsink

import (
	"bytes"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Mail is one message the sink accepted.
type Mail struct {
	From string
	To   []string
	Data []byte
}

// Sink is a running SMTP server.
type Sink struct {
	Host string
	Port int

	srv    *smtp.Server
	mails  chan Mail
	mu     sync.Mutex
	refuse *smtp.SMTPError
	tries  int
}

// Start runs a sink until the test ends.
func Start(t testing.TB) *Sink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Sink{mails: make(chan Mail, 1000)}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	s.Host = host
	s.Port, _ = strconv.Atoi(port)
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	s.srv.Domain = "sink.test"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// Refuse makes the sink answer DATA with this code from now on (0 accepts
// again): 5xx is a permanent failure, 4xx a temporary one.
func (s *Sink) Refuse(code int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		s.refuse = nil
		return
	}
	s.refuse = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: msg}
}

// Tries is how many messages were offered (accepted or refused).
func (s *Sink) Tries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tries
}

// Next waits for the next accepted message.
func (s *Sink) Next(t testing.TB, timeout time.Duration) Mail {
	t.Helper()
	select {
	case m := <-s.mails:
		return m
	case <-time.After(timeout):
		t.Fatalf("the SMTP sink received nothing within %s", timeout)
		return Mail{}
	}
}

// None checks that nothing arrives within d.
func (s *Sink) None(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case m := <-s.mails:
		t.Fatalf("the SMTP sink received an unexpected message:\n%s", m.Data)
	case <-time.After(d):
	}
}

type session struct {
	s    *Sink
	from string
	to   []string
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }
func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}
func (ss *session) Data(r io.Reader) error {
	var b bytes.Buffer
	if _, err := b.ReadFrom(r); err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.tries++
	refuse := ss.s.refuse
	ss.s.mu.Unlock()
	if refuse != nil {
		return refuse
	}
	ss.s.mails <- Mail{From: ss.from, To: ss.to, Data: b.Bytes()}
	return nil
}
