package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/demo"
	"github.com/switchboard-dev/switchboard/email"
	"github.com/switchboard-dev/switchboard/httpapi"
	"github.com/switchboard-dev/switchboard/sqlstore"
	"github.com/switchboard-dev/switchboard/web"
	"github.com/switchboard-dev/switchboard/webhooks"
	"github.com/switchboard-dev/switchboard/widget"
)

// Timeouts of the HTTP server. Writes get their deadline per request (see
// deadlines), so that the event stream can stay open.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
)

// serve runs the server until ctx is cancelled, then shuts down gracefully:
// stop accepting, let requests in flight finish (ShutdownTimeout), let the
// routing batcher finish its queue, close the store.
func (m *Main) serve(ctx context.Context, cfg *Config) error {
	log := m.newLogger(cfg)
	tuneGC(log)
	// Listen first, so that a busy port fails before any migration runs.
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", cfg.src("http"), err)
	}
	defer ln.Close()
	smtpLn, err := net.Listen("tcp", cfg.SMTPAddr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", cfg.src("smtp"), err)
	}
	defer smtpLn.Close()
	smtpTLS, err := cfg.smtpTLS()
	if err != nil {
		return err
	}
	store, err := sqlstore.Open(ctx, cfg.DB, log)
	if err != nil {
		return fmt.Errorf("cannot open the database: %s", describe(err))
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("closing the database failed", "err", err)
		}
	}()

	reg, metrics := newRegistry()
	svc := app.New(app.Config{Store: store, Logger: log, Metrics: metrics})
	webhooks.Register(svc, webhooks.Config{AllowPrivate: cfg.WebhooksAllowPrivate, Logger: log}) // R-X8
	chat := widget.New(widget.Options{App: svc, Logger: log})                                    // registers its hooks before Start
	entries := channelEntries(svc, log, cfg)                                                     // Messenger, WhatsApp, forms, calls: hooks before Start
	email.NewSender(svc, cfg.smtpHostname(), log).Register()
	// The service outlives ctx: it must keep routing until the HTTP server
	// has drained, so it gets its own context and is closed explicitly.
	svc.Start(context.WithoutCancel(ctx))
	defer svc.Close() // runs before store.Close: the batcher finishes its queue first

	var filled *demo.Info
	if cfg.Demo {
		if filled, err = demo.Fill(ctx, svc); err != nil {
			return err
		}
	}

	files := email.NewFiles(cfg.dataDir())
	mailSrv := email.NewServer(svc, email.NewReceiver(svc, files, log), email.ServerConfig{
		Domain: cfg.smtpHostname(), MaxMessageBytes: cfg.SMTPMaxBytes, MaxConns: cfg.SMTPMaxConns, MaxConnsPerIP: cfg.SMTPMaxConnsPerIP, MessagesPerMinutePerIP: cfg.SMTPMaxMessagesPerIP,
		ReadTimeout: cfg.SMTPTimeout, WriteTimeout: cfg.SMTPTimeout, TLS: smtpTLS, MaxInflightBytes: cfg.SMTPMaxInflight,
		AuthUser: cfg.SMTPAuthUser, AuthPassword: cfg.SMTPAuthPassword, Logger: log,
	})
	mailServed := make(chan error, 1)
	go func() { mailServed <- mailSrv.Serve(smtpLn) }()
	log.Info("the SMTP listener is listening", "addr", displayAddr(smtpLn.Addr()), "starttls", smtpTLS != nil, "auth", cfg.SMTPAuthUser != "", "data_dir", cfg.dataDir())

	streams, stopStreams := context.WithCancel(context.Background())
	defer stopStreams()
	handler := httpapi.New(httpapi.Config{
		App: svc, Logger: log, Registerer: reg, MaxBodyBytes: cfg.MaxBodyBytes, MetricsToken: cfg.MetricsToken,
		Extra: func(mux *http.ServeMux) {
			web.New(web.Config{App: svc, Logger: log}).Mount(mux) // the agents' inbox at / and /app
			chat.Mount(mux)                                       // /widget.js and /widget/v1/…
			entries(mux)                                          // /webhooks/…, /forms/v1/…
		},
		Attachments: func(sum string) (io.ReadSeekCloser, error) { return files.Open(sum) },
	})
	srv := &http.Server{
		Handler:           deadlines(handler, streams),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(stopStreams) // event streams end so that Shutdown can finish
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	if cfg.DebugAddr != "" {
		stopDebug, err := serveDebug(cfg.DebugAddr, log)
		if err != nil {
			return fmt.Errorf("cannot listen on %s: %w", cfg.src("debug-addr"), err)
		}
		defer stopDebug()
	}

	url := "http://" + displayAddr(ln.Addr())
	log.Info("switchboard is listening", "url", url, "db", store.Dialect(), "pid", os.Getpid())
	if cfg.Demo {
		printDemo(m.Stdout, url, displayAddr(smtpLn.Addr()), filled)
	}

	select {
	case err := <-served:
		return fmt.Errorf("the HTTP server stopped: %w", err)
	case err := <-mailServed:
		return fmt.Errorf("the SMTP listener stopped: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: no new connections; waiting for requests in flight", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	mailDone := make(chan struct{})
	go func() {
		defer close(mailDone)
		if err := mailSrv.Shutdown(sctx); err != nil {
			log.Warn("SMTP transactions still in flight at the shutdown timeout were cut off", "err", err)
		}
	}()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("requests still in flight at the shutdown timeout were cut off", "err", err)
		srv.Close()
	}
	<-mailDone
	svc.Close()
	log.Info("switchboard stopped")
	return nil
}

// deadlines gives every request a write deadline except long-lived
// streams (the event stream), whose context instead ends when the server
// starts shutting down, so that Shutdown does not wait for them.
func deadlines(next http.Handler, streams context.Context) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isStream(r) {
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(writeTimeout))
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stop := context.AfterFunc(streams, cancel)
		defer stop()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// isStream reports whether r opens a long-lived stream.
func isStream(r *http.Request) bool {
	return r.URL.Path == "/api/v1/events" ||
		strings.Contains(r.Header.Get("Accept"), "text/event-stream") ||
		strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// displayAddr turns a listener address into one a browser can open: an
// unspecified host (0.0.0.0, ::) becomes 127.0.0.1.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		return fmt.Sprintf("127.0.0.1:%d", tcp.Port)
	}
	return tcp.String()
}

// printDemo tells the person who ran serve --demo how to get in.
func printDemo(w io.Writer, url, smtp string, info *demo.Info) {
	if info.Created {
		fmt.Fprintf(w, "\nDemo data created: %q with 4 agents, 2 teams, one inbox with email, chat, form and Messenger channels, %d conversations.\n",
			demo.AccountName, info.Conversations)
	} else {
		fmt.Fprintln(w, "\nThe database already has an account; demo data was not added again.")
	}
	fmt.Fprintf(w, "Switchboard is running at %s\n", url)
	if !info.LoginWorks {
		fmt.Fprintf(w, "The demo login %s / %s does not work in this database; sign in with your own account.\n", demo.AdminEmail, demo.AdminPassword)
		return
	}
	fmt.Fprintf(w, "Login: %s / %s (agents ada@, ben@, cleo@, dan@demo.test, same password)\n", demo.AdminEmail, demo.AdminPassword)
	chat := info.Channels["chat"]
	if chat == "" {
		return
	}
	fmt.Fprintf(w, "Chat as a visitor of the website: %s/widget/v1/%s/preview\n", url, chat)
	fmt.Fprintf(w, "Email the team: swaks --server %s --to %s --from you@example.com --header 'Subject: Hello'\n", smtp, demo.EmailAddress)
	fmt.Fprintf(w, `
Try it — a token, a chat message from a new contact, and why it went where it went:

  CHAT=%[2]s
  TOKEN=$(curl -s -X POST %[1]s/api/v1/tokens -H 'Content-Type: application/json' \
    -d '{"email":"%[3]s","password":"%[4]s"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
  RES=$(curl -s -X POST %[1]s/api/v1/channels/$CHAT/inbound \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"contact":{"email":"newcomer@example.com","name":"Newcomer"},"body":"Hello, can someone help me?"}')
  echo "$RES"; CONV=$(echo "$RES" | sed -E 's/^\{"conversation":\{"id":"([^"]+)".*/\1/')
  curl -s %[1]s/api/v1/conversations/$CONV/routing -H "Authorization: Bearer $TOKEN"

`, url, chat, demo.AdminEmail, demo.AdminPassword)
}

// serveGCPercent is the garbage collector's target for serve when the
// operator has not set GOGC: the server's live heap is small (tens of MiB)
// and it allocates per request, so Go's default of 100 collected so often
// that the collector took a quarter of the server's CPU under load. At
// 300 the inbound throughput on PostgreSQL rose by about a tenth
// (docs/PERFORMANCE.md), for a heap up to four times the live one.
// GOMEMLIMIT, if set, still bounds it.
const serveGCPercent = 300

func tuneGC(log *slog.Logger) {
	if os.Getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(serveGCPercent)
	log.Debug("garbage collector target set (GOGC unset)", "gogc", serveGCPercent)
}

// serveDebug serves Go's profiler on its own listener, apart from the API
// and its authentication, for an operator on the same machine.
func serveDebug(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout}
	go func() { _ = srv.Serve(ln) }()
	log.Warn("the profiler is listening, without authentication", "addr", displayAddr(ln.Addr()))
	return func() { srv.Close() }, nil
}
