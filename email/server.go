package email

import (
	"bytes"
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"golang.org/x/sync/semaphore"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/internal/keyrate"
)

// Defaults of ServerConfig.
const (
	DefaultMaxMessageBytes = 25 << 20
	DefaultMaxRecipients   = 50
	DefaultMaxConns        = 200
	DefaultMaxConnsPerIP   = 20
	DefaultTimeout         = 60 * time.Second
	// DefaultMaxInflightBytes bounds the message bytes held by all
	// connections at once (a parsed message takes about three times its
	// size); past it DATA is answered 452 and the sender retries later.
	DefaultMaxInflightBytes = 256 << 20
	deliverTimeout          = 30 * time.Second
	lookupTimeout           = 10 * time.Second
	readChunk               = 64 << 10
)

// ServerConfig configures the inbound SMTP listener.
type ServerConfig struct {
	// Domain is the host name in the greeting (default "localhost").
	Domain string
	// MaxMessageBytes: larger messages are refused with 552.
	MaxMessageBytes int64
	// MaxRecipients per message (more are refused with 452).
	MaxRecipients int
	// MaxConns in all and MaxConnsPerIP from one address; more are
	// answered 421 and closed.
	MaxConns, MaxConnsPerIP int
	// MessagesPerMinutePerIP, if positive, bounds the messages (MAIL
	// commands) one address may start a minute, in bursts of as many;
	// more are answered 450 4.7.1 and the sender retries later. 0: no
	// limit (a relay in front sends everything from one address).
	MessagesPerMinutePerIP int
	// ReadTimeout and WriteTimeout bound each command and reply, and the
	// whole DATA transfer.
	ReadTimeout, WriteTimeout time.Duration
	// MaxInflightBytes bounds the bytes of messages being received or
	// stored at once, over all connections (default 256 MiB).
	MaxInflightBytes int64
	// TLS, if set, offers STARTTLS.
	TLS *tls.Config
	// AuthUser and AuthPassword, if set, require AUTH PLAIN before MAIL
	// (for a relay that forwards to Switchboard); over STARTTLS only when
	// TLS is set.
	AuthUser, AuthPassword string
	Logger                 *slog.Logger
}

// Server is the inbound SMTP listener (R-E1): RCPT TO a channel's address
// picks the channel, and a message is answered 250 only once it is
// committed.
type Server struct {
	cfg  ServerConfig
	svc  *app.Service
	recv *Receiver
	log  *slog.Logger
	srv  *smtp.Server
	ln   atomic.Pointer[limitListener]
	mem  *semaphore.Weighted // MaxInflightBytes
	rate keyrate.Limiter     // MessagesPerMinutePerIP, per client address
}

// NewServer returns a listener delivering through recv.
func NewServer(svc *app.Service, recv *Receiver, cfg ServerConfig) *Server {
	if cfg.Domain == "" {
		cfg.Domain = "localhost"
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = DefaultMaxRecipients
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.MaxConnsPerIP <= 0 {
		cfg.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	if cfg.MaxInflightBytes <= 0 {
		cfg.MaxInflightBytes = DefaultMaxInflightBytes
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, svc: svc, recv: recv, log: cfg.Logger, mem: semaphore.NewWeighted(cfg.MaxInflightBytes)}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = cfg.Domain
	srv.MaxMessageBytes = cfg.MaxMessageBytes
	srv.MaxRecipients = cfg.MaxRecipients
	srv.MaxLineLength = 4000
	srv.ReadTimeout, srv.WriteTimeout = cfg.ReadTimeout, cfg.WriteTimeout
	srv.TLSConfig = cfg.TLS
	srv.AllowInsecureAuth = cfg.TLS == nil
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug)
	s.srv = srv
	return s
}

// Serve accepts connections on ln until Shutdown or Close.
func (s *Server) Serve(ln net.Listener) error {
	l := newLimitListener(ln, s.cfg.MaxConns, s.cfg.MaxConnsPerIP)
	s.ln.Store(l)
	err := s.srv.Serve(l)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, answers idle connections 421 and lets mail
// transactions in flight finish; at ctx's end it cuts the rest.
func (s *Server) Shutdown(ctx context.Context) error {
	if l := s.ln.Load(); l != nil {
		l.drain()
	}
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	return err
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	ss := &session{s: s, remote: c.Conn().RemoteAddr().String()}
	if tc, ok := c.Conn().(*trackedConn); ok {
		ss.conn = tc
	}
	if l := s.ln.Load(); l != nil && l.closing.Load() {
		return nil, &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Shutting down; try again later"}
	}
	if s.cfg.AuthUser != "" {
		return &authSession{session: ss}, nil
	}
	return ss, nil
}

// session is one SMTP connection's state.
type session struct {
	s        *Server
	conn     *trackedConn
	remote   string
	authed   bool
	from     string
	rcpts    []Delivery
	channels map[string]bool
}

var (
	errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	errShutdown     = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Shutting down; try again later"}
	errRate         = &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Too many messages from your address; try again later"}
)

func (ss *session) busy(b bool) {
	if ss.conn != nil {
		ss.conn.busy.Store(b)
	}
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.cfg.AuthUser != "" && !ss.authed {
		return errAuthRequired
	}
	if l := ss.s.ln.Load(); l != nil && l.closing.Load() {
		return errShutdown
	}
	if n := ss.s.cfg.MessagesPerMinutePerIP; n > 0 {
		host, _, err := net.SplitHostPort(ss.remote)
		if err != nil {
			host = ss.remote
		}
		if !ss.s.rate.Allow(host, n) {
			return errRate
		}
	}
	ss.busy(true)
	ss.from = strings.ToLower(strings.TrimSpace(from))
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	addr := strings.ToLower(strings.TrimSpace(to))
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	ch, err := ss.s.lookup(ctx, addr)
	if sb.IsKind(err, sb.NotFound) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox here: " + addr}
	}
	if err != nil {
		ss.s.log.Error("looking up a recipient failed", "rcpt", addr, "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure looking up the recipient; try again later"}
	}
	if ss.channels == nil {
		ss.channels = map[string]bool{}
	}
	if !ss.channels[ch.ID] { // two addresses of one channel: deliver once
		ss.channels[ch.ID] = true
		ss.rcpts = append(ss.rcpts, Delivery{Channel: ch, Recipient: addr, EnvelopeFrom: ss.from})
	}
	return nil
}

// lookup finds the channel of a recipient address; a +tag is ignored if
// the address with it is unknown (support+billing@ → support@).
func (s *Server) lookup(ctx context.Context, addr string) (*sb.Channel, error) {
	var ch *sb.Channel
	err := s.svc.View(ctx, func(tx sb.Tx) error {
		var err error
		ch, err = tx.ChannelByAddress(ctx, addr)
		if sb.IsKind(err, sb.NotFound) {
			if local, domain, ok := strings.Cut(addr, "@"); ok {
				if base, _, tagged := strings.Cut(local, "+"); tagged && base != "" {
					ch, err = tx.ChannelByAddress(ctx, base+"@"+domain)
				}
			}
		}
		return err
	})
	if err == nil && ch.Kind != sb.KindEmail {
		return nil, sb.E("email.lookup", sb.NotFound, "not_found", "not an email channel")
	}
	return ch, err
}

func (ss *session) Data(r io.Reader) error {
	defer ss.busy(false)
	raw, held, err := ss.s.read(r)
	defer ss.s.mem.Release(held)
	if err != nil {
		return err
	}
	m, err := Parse(raw)
	if err != nil {
		ss.s.log.Info("refused an unparseable message", "remote", ss.remote, "from", ss.from, "err", err)
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "The message cannot be parsed: it has no readable header section"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), deliverTimeout)
	defer cancel()
	var temp, perm error
	delivered := 0
	for _, d := range ss.rcpts {
		res, err := ss.s.recv.Receive(ctx, m, d)
		if err != nil {
			code := smtpError(err)
			ss.s.log.Warn("an inbound email was not stored", "channel_id", d.Channel.ID, "remote", ss.remote, "from", ss.from,
				"message_id", m.MessageID, "code", code.Code, "err", err)
			if code.Temporary() {
				temp = code
			} else {
				perm = code
			}
			continue
		}
		delivered++
		if res != nil {
			ss.s.log.Debug("email received", "channel_id", d.Channel.ID, "conversation_id", res.Conversation.ID,
				"message_id", m.MessageID, "duplicate", res.Duplicate)
		}
	}
	switch {
	case temp != nil:
		return temp // the sender retries; what was stored is not stored twice (external id)
	case delivered == 0 && perm != nil:
		return perm
	}
	return nil
}

var errNoMemory = &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "Too much mail in progress; try again later"}

// read reads a message, taking its bytes from the in-flight budget as they
// come; held is what to give back. Over the budget it answers 452 at
// once rather than wait: the sender retries later.
func (s *Server) read(r io.Reader) (raw []byte, held int64, err error) {
	var buf bytes.Buffer
	chunk := make([]byte, readChunk)
	for {
		n, rerr := r.Read(chunk)
		if n > 0 {
			if !s.mem.TryAcquire(int64(n)) {
				s.log.Warn("refused a message: the in-flight byte budget is used up", "max_inflight_bytes", s.cfg.MaxInflightBytes)
				return nil, held, errNoMemory
			}
			held += int64(n)
			buf.Write(chunk[:n])
		}
		if rerr == io.EOF {
			return buf.Bytes(), held, nil
		}
		if rerr != nil {
			return nil, held, rerr // ErrDataTooLarge answers 552
		}
	}
}

// smtpError maps an error of Receive to an SMTP reply: the one table from
// error kinds to SMTP codes.
func smtpError(err error) *smtp.SMTPError {
	switch {
	case errors.Is(err, ErrNoSender):
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 7}, Message: ErrNoSender.Error()}
	case errors.Is(err, ErrLoop):
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 4, 6}, Message: ErrLoop.Error()}
	}
	_, msg := sb.PublicMessage(err)
	switch sb.KindOf(err) {
	case sb.Invalid, sb.RuleViolation:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: msg}
	case sb.TooLarge:
		return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: msg}
	case sb.NotFound:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "The mailbox no longer exists"}
	default:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure storing the message; try again later"}
	}
}

func (ss *session) Reset() {
	ss.from, ss.rcpts, ss.channels = "", nil, nil
	ss.busy(false)
}

func (ss *session) Logout() error {
	ss.busy(false)
	return nil
}

// authSession is a session that offers and requires AUTH PLAIN.
type authSession struct{ *session }

func (a *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (a *authSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, pass string) error {
		cfg := a.s.cfg
		okUser := subtle.ConstantTimeCompare([]byte(user), []byte(cfg.AuthUser)) == 1
		okPass := subtle.ConstantTimeCompare([]byte(pass), []byte(cfg.AuthPassword)) == 1
		if !okUser || !okPass {
			a.s.log.Warn("SMTP authentication failed", "remote", a.remote)
			return smtp.ErrAuthFailed
		}
		a.authed = true
		return nil
	}), nil
}
