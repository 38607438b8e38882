package email_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"net/textproto"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/email"
	"github.com/switchboard-dev/switchboard/internal/pgtest"
	"github.com/switchboard-dev/switchboard/internal/smtpsink"
	"github.com/switchboard-dev/switchboard/sqlstore"
)

// env is a running Service with the email channel's listener and sender,
// a relay sink, an admin and an email channel.
type env struct {
	t       *testing.T
	ctx     context.Context
	svc     *app.Service
	store   sb.Store
	admin   app.Actor
	addr    string // the SMTP listener
	sink    *smtpsink.Sink
	files   string
	channel *app.ChannelView
	stop    func() // stops the listener and the service, closes the store
}

type envOpts struct {
	server func(*email.ServerConfig)
	reuse  *env // a stopped env whose database (and account) this one reopens
}

// reopen starts a new process on old's database, as after a restart.
func reopen(t *testing.T, dsn string, old *env) *env {
	t.Helper()
	e := newEnv(t, dsn, envOpts{reuse: old})
	e.channel = old.channel
	return e
}

// forEachDB runs fn against SQLite and PostgreSQL.
func forEachDB(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "sqlite:"+filepath.Join(t.TempDir(), "email.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, pgtest.DSN(t)) })
}

func newEnv(t *testing.T, dsn string, opts ...envOpts) *env {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	st, err := sqlstore.Open(ctx, dsn, log)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	svc := app.New(app.Config{Store: st, Logger: log, Seed: 3, JobPoll: 20 * time.Millisecond, JobBackoff: 50 * time.Millisecond,
		PasswordParams: &app.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}})
	email.NewSender(svc, "test.local", log).Register()
	svc.Start(ctx)
	files := t.TempDir()
	cfg := email.ServerConfig{Domain: "mx.test", Logger: log, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second}
	for _, o := range opts {
		if o.server != nil {
			o.server(&cfg)
		}
	}
	srv := email.NewServer(svc, email.NewReceiver(svc, email.NewFiles(files), log), cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
			svc.Close()
			st.Close()
		})
	}
	t.Cleanup(stop)
	var admin app.Actor
	if len(opts) > 0 && opts[0].reuse != nil {
		admin = opts[0].reuse.admin // the database has the account already
	} else {
		res, err := svc.Setup(ctx, app.SetupInput{AccountName: "Acme", TimeZone: "Europe/Amsterdam", AdminEmail: "admin@acme.test", AdminName: "Ada Admin", Password: "correct horse"})
		if err != nil {
			t.Fatalf("setup: %v", err)
		}
		if admin, err = svc.Authenticate(ctx, res.Token); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{t: t, ctx: ctx, svc: svc, store: st, admin: admin, addr: ln.Addr().String(), sink: smtpsink.Start(t), files: files, stop: stop}
	pw := ""
	if len(opts) > 0 && opts[0].reuse != nil {
		return e
	}
	e.must(e.svc.SetSMTPSettings(ctx, admin, app.SMTPSettingsInput{Host: e.sink.Host, Port: e.sink.Port, TLS: sb.SMTPTLSNone, Password: &pw, FromAddress: "bounces@acme.test"}))
	return e
}

func (e *env) must(_ any, err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// agent creates a seated, available agent.
func (e *env) agent(name string) app.Actor {
	e.t.Helper()
	u, err := e.svc.CreateUser(e.ctx, e.admin, app.UserInput{Email: strings.ToLower(strings.Fields(name)[0]) + "@acme.test", Name: name, Role: sb.RoleAgent, PaidSeat: true, Password: "password " + name})
	if err != nil {
		e.t.Fatal(err)
	}
	return app.Actor{AccountID: u.AccountID, UserID: u.ID, Role: u.Role}
}

// emailChannel creates the env's email channel.
func (e *env) emailChannel(config string, rule sb.RoutingRule) *app.ChannelView {
	e.t.Helper()
	ch, err := e.svc.CreateChannel(e.ctx, e.admin, "", app.ChannelInput{Kind: sb.KindEmail, Name: "Support", Config: json.RawMessage(config), Routing: &rule, NewInbox: &app.InboxInput{Name: "Support"}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.channel = ch
	return ch
}

// send delivers raw to rcpts through the listener with Go's net/smtp.
func (e *env) send(from string, rcpts []string, raw string) error {
	return smtp.SendMail(e.addr, nil, from, rcpts, []byte(strings.ReplaceAll(raw, "\n", "\r\n")))
}

func (e *env) mustSend(from string, rcpts []string, raw string) {
	e.t.Helper()
	if err := e.send(from, rcpts, raw); err != nil {
		e.t.Fatalf("sending mail: %v", err)
	}
}

// smtpCode returns the SMTP reply code of a net/smtp error (0 if none).
func smtpCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// conversations lists open conversations, newest first.
func (e *env) conversations() []*sb.Conversation {
	e.t.Helper()
	p, err := e.svc.ListConversations(e.ctx, e.admin, app.ListQuery{View: app.ViewOpen, Limit: 200})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Items
}

func (e *env) messages(convID string) []*sb.Message {
	e.t.Helper()
	ms, err := e.svc.Messages(e.ctx, e.admin, convID)
	if err != nil {
		e.t.Fatal(err)
	}
	return ms
}

// waitDelivery polls until the message's delivery is want.
func (e *env) waitDelivery(convID, msgID, want string) *sb.Message {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last *sb.Message
	for time.Now().Before(deadline) {
		for _, m := range e.messages(convID) {
			if m.ID == msgID {
				last = m
				if m.Delivery == want {
					return m
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("message %s: delivery %q, want %q", msgID, last.Delivery, want)
	return nil
}

// mail builds a message.
func mail(from, to, subject, msgID, extra, body string) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\nTo: %s\nSubject: %s\nDate: Mon, 16 Nov 2026 10:00:00 +0000\n", from, to, subject)
	if msgID != "" {
		fmt.Fprintf(&b, "Message-ID: <%s>\n", msgID)
	}
	b.WriteString(extra)
	b.WriteString("Content-Type: text/plain; charset=utf-8\n\n")
	b.WriteString(body)
	b.WriteString("\n")
	return b.String()
}

// extraServer starts a second listener on the env's service, which the
// test may shut down itself.
func (e *env) extraServer(t *testing.T) (*email.Server, string) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	srv := email.NewServer(e.svc, email.NewReceiver(e.svc, email.NewFiles(e.files), log), email.ServerConfig{Logger: log, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	return srv, ln.Addr().String()
}
