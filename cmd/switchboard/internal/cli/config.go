package cli

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/channels/meta"
)

// EnvPrefix starts every flag's environment twin.
const EnvPrefix = "SWITCHBOARD_"

// EnvName returns the environment twin of a flag of serve or migrate:
// SWITCHBOARD_ and the flag's name in upper case with dashes as
// underscores (--log-format -> SWITCHBOARD_LOG_FORMAT).
func EnvName(flagName string) string { return EnvNameFor("serve", flagName) }

// EnvNameFor returns the environment twin of a command's flag. The client
// tools' twins name their command (load --smtp -> SWITCHBOARD_LOAD_SMTP),
// so that a server's environment does not steer them: SWITCHBOARD_SMTP is
// where serve listens for mail, not where load should send it.
func EnvNameFor(command, flagName string) string {
	prefix := EnvPrefix
	switch command {
	case "load", "simulate":
		prefix += strings.ToUpper(command) + "_"
	}
	return prefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Config is the whole configuration of one command, filled from flags and
// their environment twins (flags win) and validated once by Validate.
// Each command reads only its own fields.
type Config struct {
	// serve, migrate
	DB        string
	LogFormat string // "text" or "json"
	LogLevel  string // "debug", "info", "warn" or "error"

	// serve
	HTTPAddr        string
	SMTPAddr        string
	Demo            bool
	MaxBodyBytes    int64
	ShutdownTimeout time.Duration
	DebugAddr       string // pprof listener; empty: off
	MetricsToken    string // bearer token of GET /metrics; empty: loopback clients only
	// WebhooksAllowPrivate lets outbound webhooks reach loopback and
	// private addresses (R-X8; off against request forgery).
	WebhooksAllowPrivate bool
	MetaAppSecret        string // Messenger and WhatsApp webhook signatures
	MetaVerifyToken      string // Meta's subscription handshake
	GraphAPIURL          string

	// serve: the email channel (issue 3)
	SMTPHostname         string
	SMTPMaxBytes         int64
	SMTPTLSCert          string
	SMTPTLSKey           string
	SMTPAuthUser         string
	SMTPAuthPassword     string
	SMTPMaxConns         int
	SMTPMaxConnsPerIP    int
	SMTPMaxMessagesPerIP int // a minute; 0: no limit
	SMTPMaxInflight      int64
	SMTPTimeout          time.Duration
	DataDir              string

	// load
	URL         string
	Email       string
	Password    string
	Agents      int
	Clients     int
	Requests    int
	Duration    time.Duration
	Kind        string
	JSON        bool
	AllowRemote bool
	LoadSMTP    string

	Sim SimConfig // simulate

	level   slog.Level      // parsed LogLevel
	fromEnv map[string]bool // flags whose value came from their env twin
	command string          // whose flags these are (applyEnv)
}

// src names where a flag's value came from, for messages: "--db" or
// "SWITCHBOARD_DB".
func (c *Config) src(flagName string) string {
	if c.fromEnv[flagName] {
		return EnvNameFor(c.command, flagName)
	}
	return "--" + flagName
}

// Defaults of the flags that the README and tests mention.
const (
	DefaultDB              = "sqlite:switchboard.db"
	DefaultHTTP            = "127.0.0.1:8080"
	DefaultSMTP            = "127.0.0.1:2525"
	DefaultMaxBodyBytes    = 1 << 20
	DefaultShutdownTimeout = 15 * time.Second
)

// logFlags are shared by every command that opens the database.
func (c *Config) logFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json (logs go to standard error)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "least severe log level shown: debug, info, warn or error")
}

func (c *Config) dbFlag(fs *flag.FlagSet) {
	fs.StringVar(&c.DB, "db", DefaultDB, "database: sqlite:PATH, or postgres://USER@HOST:PORT/NAME for PostgreSQL")
}

func (c *Config) serveFlags(fs *flag.FlagSet) {
	c.dbFlag(fs)
	fs.StringVar(&c.HTTPAddr, "http", DefaultHTTP, "HTTP listen address (API, web inbox, widget, webhooks); port 0 picks a free port")
	fs.StringVar(&c.SMTPAddr, "smtp", DefaultSMTP, "inbound SMTP listen address: mail to an email channel's address arrives here; port 0 picks a free port")
	c.emailFlags(fs)
	fs.BoolVar(&c.Demo, "demo", false, "fill an empty database with a demo account and print its login")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", DefaultMaxBodyBytes, "largest request body the API accepts, in bytes")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", DefaultShutdownTimeout, "how long a graceful shutdown waits for requests in flight")
	fs.StringVar(&c.DebugAddr, "debug-addr", "", "listen address of Go's profiler (/debug/pprof/, no authentication: keep it on loopback); empty: off")
	fs.StringVar(&c.MetricsToken, "metrics-token", "", "bearer token that GET /metrics requires; empty: only loopback clients may read /metrics (prefer the environment twin: flags show in ps)")
	fs.BoolVar(&c.WebhooksAllowPrivate, "webhooks-allow-private", false, "let outbound webhooks reach loopback and private network addresses (off: refused, against request forgery)")
	fs.StringVar(&c.MetaAppSecret, "meta-app-secret", "", "Meta app secret that signs Messenger and WhatsApp webhooks (prefer the environment twin: flags show in ps)")
	fs.StringVar(&c.MetaVerifyToken, "meta-verify-token", "", "verify token of Meta's webhook subscription handshake")
	fs.StringVar(&c.GraphAPIURL, "graph-api-url", meta.DefaultGraphURL, "base URL of Meta's Graph API (Messenger and WhatsApp replies)")
	c.logFlags(fs)
}

func (c *Config) migrateFlags(fs *flag.FlagSet) {
	c.dbFlag(fs)
	c.logFlags(fs)
}

func (c *Config) loadFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.URL, "url", "http://"+DefaultHTTP, "base URL of the running switchboard to load")
	fs.StringVar(&c.Email, "email", "admin@demo.test", "admin email to sign in with")
	fs.StringVar(&c.Password, "password", "demo", "admin password")
	fs.IntVar(&c.Agents, "agents", 200, "agents (seated, available) to create for the test")
	fs.IntVar(&c.Clients, "clients", 16, "concurrent clients sending inbound messages")
	fs.IntVar(&c.Requests, "requests", 20000, "inbound messages to send in all")
	fs.DurationVar(&c.Duration, "duration", 0, "stop after this long even if requests remain (0 = no limit)")
	fs.StringVar(&c.Kind, "kind", "chat", "channel kind to load: chat, messenger, whatsapp, calling (least busy) or email, form (random)")
	fs.BoolVar(&c.JSON, "json", false, "print the report as JSON on standard output (the text report goes to standard error)")
	fs.BoolVar(&c.AllowRemote, "allow-remote", false, "allow a --url whose host is not loopback")
	fs.StringVar(&c.LoadSMTP, "smtp", "", "send the inbound messages as email to this SMTP listener (host:port) instead of the HTTP API; implies --kind email")
}

// usageError is a mistake in the command line or environment: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// isUsage reports whether err is a usage error.
func isUsage(err error) bool {
	var u *usageError
	return errors.As(err, &u)
}

// applyEnv sets every flag that the command line did not set from its
// environment twin, if that is set and not empty.
func (c *Config) applyEnv(command string, fs *flag.FlagSet, lookup func(string) (string, bool)) error {
	c.fromEnv, c.command = map[string]bool{}, command
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || set[f.Name] {
			return
		}
		name := EnvNameFor(command, f.Name)
		v, ok := lookup(name)
		if !ok || v == "" {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = usagef("%s=%q: %v", name, v, e)
			return
		}
		c.fromEnv[f.Name] = true
	})
	return err
}

// Validate checks the fields command uses, once, and returns a usage error
// naming the flag at fault.
func (c *Config) Validate(command string) error {
	switch command {
	case "serve", "migrate":
		if strings.TrimSpace(c.DB) == "" {
			return usagef("%s is empty: use sqlite:PATH or postgres://…", c.src("db"))
		}
		switch c.LogFormat {
		case "text", "json":
		default:
			return usagef("%s %q: use text or json", c.src("log-format"), c.LogFormat)
		}
		if err := c.level.UnmarshalText([]byte(c.LogLevel)); err != nil {
			return usagef("%s %q: use debug, info, warn or error", c.src("log-level"), c.LogLevel)
		}
	}
	switch command {
	case "serve":
		if err := checkAddr(c.src("http"), c.HTTPAddr); err != nil {
			return err
		}
		if err := checkAddr(c.src("smtp"), c.SMTPAddr); err != nil {
			return err
		}
		if c.DebugAddr != "" {
			if err := checkAddr(c.src("debug-addr"), c.DebugAddr); err != nil {
				return err
			}
		}
		if c.MaxBodyBytes < 1024 {
			return usagef("%s %d: use at least 1024", c.src("max-body-bytes"), c.MaxBodyBytes)
		}
		if u, err := url.Parse(c.GraphAPIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("%s %q: use an http(s) URL such as %s", c.src("graph-api-url"), c.GraphAPIURL, meta.DefaultGraphURL)
		}
		if c.ShutdownTimeout <= 0 {
			return usagef("%s %s: use a positive duration such as 15s", c.src("shutdown-timeout"), c.ShutdownTimeout)
		}
		if err := c.validateEmail(); err != nil {
			return err
		}
	case "load":
		return c.validateLoad()
	}
	return nil
}

func (c *Config) validateLoad() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("%s %q: use an http:// or https:// URL such as http://127.0.0.1:8080", c.src("url"), c.URL)
	}
	if !c.AllowRemote && !isLoopback(u.Hostname()) {
		return usagef("%s %q is not on this machine (loopback); a load test sends thousands of requests, so pass --allow-remote if you mean it", c.src("url"), c.URL)
	}
	if c.Email == "" || c.Password == "" {
		return usagef("--email and --password are required")
	}
	for _, n := range []struct {
		name string
		v    int
	}{{c.src("agents"), c.Agents}, {c.src("clients"), c.Clients}, {c.src("requests"), c.Requests}} {
		if n.v < 1 {
			return usagef("%s %d: use a positive number", n.name, n.v)
		}
	}
	if c.LoadSMTP != "" {
		if err := checkAddr(c.src("smtp"), c.LoadSMTP); err != nil {
			return err
		}
		host, _, _ := net.SplitHostPort(c.LoadSMTP)
		if !c.AllowRemote && !isLoopback(host) {
			return usagef("%s %q is not on this machine (loopback); pass --allow-remote if you mean it", c.src("smtp"), c.LoadSMTP)
		}
	}
	if c.Duration < 0 {
		return usagef("%s %s: use 0 (no limit) or a positive duration", c.src("duration"), c.Duration)
	}
	if !sb.ChannelKind(c.Kind).Valid() {
		return usagef("%s %q: use chat, email, messenger, whatsapp, form or calling", c.src("kind"), c.Kind)
	}
	return nil
}

// isLoopback reports whether host is localhost, 127.0.0.0/8 or ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkAddr checks a host:port listen address.
func checkAddr(flagName, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("%s %q: use HOST:PORT such as 127.0.0.1:8080", flagName, addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return usagef("%s %q: the port must be a number from 0 to 65535", flagName, addr)
	}
	return nil
}

// Level returns the validated log level.
func (c *Config) Level() slog.Level { return c.level }
