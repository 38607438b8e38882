package cli

import (
	"crypto/tls"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/email"
)

// Defaults of the email flags.
const (
	DefaultSMTPMaxBytes      = email.DefaultMaxMessageBytes
	DefaultSMTPMaxConns      = email.DefaultMaxConns
	DefaultSMTPMaxConnsPerIP = email.DefaultMaxConnsPerIP
	DefaultSMTPTimeout       = email.DefaultTimeout
)

func (c *Config) emailFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.SMTPHostname, "smtp-hostname", "", "host name the SMTP listener greets with and sends HELO as (default: this machine's host name)")
	fs.Int64Var(&c.SMTPMaxBytes, "smtp-max-bytes", DefaultSMTPMaxBytes, "largest inbound email accepted, in bytes (larger ones get 552)")
	fs.StringVar(&c.SMTPTLSCert, "smtp-tls-cert", "", "PEM certificate file: offer STARTTLS on the SMTP listener (with --smtp-tls-key)")
	fs.StringVar(&c.SMTPTLSKey, "smtp-tls-key", "", "PEM private key file of --smtp-tls-cert")
	fs.StringVar(&c.SMTPAuthUser, "smtp-auth-user", "", "require SMTP AUTH PLAIN with this user before MAIL (for a relay that forwards to Switchboard)")
	fs.StringVar(&c.SMTPAuthPassword, "smtp-auth-password", "", "password of --smtp-auth-user")
	fs.IntVar(&c.SMTPMaxConns, "smtp-max-conns", DefaultSMTPMaxConns, "most SMTP connections at once; more are answered 421")
	fs.IntVar(&c.SMTPMaxConnsPerIP, "smtp-max-conns-per-ip", DefaultSMTPMaxConnsPerIP, "most SMTP connections from one IP address at once; more are answered 421")
	fs.IntVar(&c.SMTPMaxMessagesPerIP, "smtp-max-messages-per-ip", 0, "most messages one IP address may send a minute (in bursts of as many); more are answered 450 and retried by the sender; 0: no limit (leave it so behind a relay, which sends everything from one address)")
	fs.Int64Var(&c.SMTPMaxInflight, "smtp-max-inflight-bytes", email.DefaultMaxInflightBytes, "most bytes of inbound email held in memory at once over all connections; past it DATA gets 452 (try later)")
	fs.DurationVar(&c.SMTPTimeout, "smtp-timeout", DefaultSMTPTimeout, "SMTP read and write timeout per command (and for a whole DATA transfer)")
	fs.StringVar(&c.DataDir, "data-dir", "", "directory for email attachments (default: data/ next to the SQLite file, ./data with PostgreSQL)")
}

func (c *Config) validateEmail() error {
	if c.SMTPMaxBytes < 1024 {
		return usagef("%s %d: use at least 1024", c.src("smtp-max-bytes"), c.SMTPMaxBytes)
	}
	if (c.SMTPTLSCert == "") != (c.SMTPTLSKey == "") {
		return usagef("%s and %s go together: give both or neither", c.src("smtp-tls-cert"), c.src("smtp-tls-key"))
	}
	if (c.SMTPAuthUser == "") != (c.SMTPAuthPassword == "") {
		return usagef("%s and %s go together: give both or neither", c.src("smtp-auth-user"), c.src("smtp-auth-password"))
	}
	if c.SMTPMaxConns < 1 || c.SMTPMaxConnsPerIP < 1 {
		return usagef("%s and %s must be at least 1", c.src("smtp-max-conns"), c.src("smtp-max-conns-per-ip"))
	}
	if c.SMTPMaxMessagesPerIP < 0 {
		return usagef("%s %d: use 0 (no limit) or a positive number of messages a minute", c.src("smtp-max-messages-per-ip"), c.SMTPMaxMessagesPerIP)
	}
	if c.SMTPMaxInflight < c.SMTPMaxBytes {
		return usagef("%s %d: use at least %s (%d), or no message of the largest size could ever be taken", c.src("smtp-max-inflight-bytes"), c.SMTPMaxInflight, c.src("smtp-max-bytes"), c.SMTPMaxBytes)
	}
	if c.SMTPTimeout < time.Second {
		return usagef("%s %s: use at least 1s", c.src("smtp-timeout"), c.SMTPTimeout)
	}
	return nil
}

// dataDir is --data-dir or its default: data/ beside the SQLite file, or
// ./data for PostgreSQL.
func (c *Config) dataDir() string {
	if c.DataDir != "" {
		return c.DataDir
	}
	if path, ok := strings.CutPrefix(c.DB, "sqlite:"); ok {
		path, _, _ = strings.Cut(path, "?")
		path = strings.TrimPrefix(path, "file:")
		return filepath.Join(filepath.Dir(path), "data")
	}
	return "data"
}

// smtpHostname is --smtp-hostname or the machine's name.
func (c *Config) smtpHostname() string {
	if c.SMTPHostname != "" {
		return c.SMTPHostname
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

// smtpTLS loads the STARTTLS certificate, if configured.
func (c *Config) smtpTLS() (*tls.Config, error) {
	if c.SMTPTLSCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.SMTPTLSCert, c.SMTPTLSKey)
	if err != nil {
		return nil, usagef("%s/%s: %v", c.src("smtp-tls-cert"), c.src("smtp-tls-key"), err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
