// Package widget is Switchboard's chat channel at the edge: the embeddable
// /widget.js, the visitor's HTTP and WebSocket entry points under
// /widget/v1/{channel_id}/, origin checks and rate limits, and the chat
// transcript mail (R-C1 … R-C4). Everything it decides about routing,
// availability of users and contacts is app's; it computes only what the
// widget shows (Evaluate) and translates.
package widget

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/httpapi"
)

// Options configure the widget. App is required; the limits have defaults.
type Options struct {
	App    *app.Service
	Logger *slog.Logger
	// VisitorRate and VisitorBurst bound the messages and signals of one
	// visitor token (default 2/s, burst 20).
	VisitorRate  rate.Limit
	VisitorBurst int
	// IPRate and IPBurst bound the requests and WebSocket frames of one
	// client address (default 20/s, burst 200).
	IPRate  rate.Limit
	IPBurst int
	// MaxConnsPerIP bounds the open WebSockets of one client address
	// (default 200).
	MaxConnsPerIP int
	// RefreshDebounce is how long availability changes are gathered before
	// the open widgets of an account are told (default 500 ms).
	RefreshDebounce time.Duration
	// Resync is how often an open WebSocket re-reads its thread, in case
	// the event subscription dropped an event (default 30 s).
	Resync time.Duration
}

// Widget serves the chat widget. Create it with New before the service
// starts (it registers the chat config check and the transcript hook) and
// mount it with Mount (httpapi.Config.Extra).
type Widget struct {
	app    *app.Service
	log    *slog.Logger
	opts   Options
	limits *limiter
	hub    *hub
	chans  channelCache
	users  nameCache
}

// nameCache keeps users' names for a minute, so that acknowledging a
// visitor's message does not read the assignee's name each time.
type nameCache struct {
	mu sync.Mutex
	m  map[string]cachedName
}

type cachedName struct {
	name string
	at   time.Time
}

// New returns the widget over o.App and registers with the service the
// chat channels' config check (ParseConfig) and the transcript mail that
// is sent when a chat closes (R-C4).
func New(o Options) *Widget {
	if o.App == nil {
		panic("widget: Options.App is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.VisitorRate == 0 {
		o.VisitorRate, o.VisitorBurst = 2, 20
	}
	if o.IPRate == 0 {
		o.IPRate, o.IPBurst = 20, 200
	}
	if o.MaxConnsPerIP == 0 {
		o.MaxConnsPerIP = 200
	}
	if o.RefreshDebounce <= 0 {
		o.RefreshDebounce = 500 * time.Millisecond
	}
	if o.Resync <= 0 {
		o.Resync = 30 * time.Second
	}
	w := &Widget{app: o.App, log: o.Logger, opts: o, limits: newLimiter(o)}
	w.hub = newHub(w)
	o.App.RegisterChannelKind(sb.KindChat, app.ChannelKindHooks{
		Check: func(c *sb.Channel) ([]string, error) { return nil, CheckConfig(c.Config) },
	})
	o.App.OnClose(w.transcript)
	return w
}

// Mount registers the widget's routes on mux.
func (w *Widget) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /widget.js", w.script)
	mux.HandleFunc("GET /widget/v1/{channel_id}/state", w.state)
	mux.HandleFunc("OPTIONS /widget/v1/{channel_id}/state", w.preflight)
	mux.HandleFunc("POST /widget/v1/{channel_id}/messages", w.postMessage)
	mux.HandleFunc("OPTIONS /widget/v1/{channel_id}/messages", w.preflight)
	mux.HandleFunc("GET /widget/v1/{channel_id}/ws", w.websocket)
	mux.HandleFunc("GET /widget/v1/{channel_id}/preview", w.preview)
}

// channelCache keeps chat channels' parsed configs for a second, so that a
// burst of widget requests does not parse the same config each time.
type channelCache struct {
	mu sync.Mutex
	m  map[string]cachedChannel
}

type cachedChannel struct {
	ch  *sb.Channel
	cfg *Config
	at  time.Time
}

// channel returns the chat channel and its config; NotFound for anything
// but an existing chat channel.
func (w *Widget) channel(ctx context.Context, id string) (*sb.Channel, *Config, error) {
	now := time.Now()
	w.chans.mu.Lock()
	c, ok := w.chans.m[id]
	w.chans.mu.Unlock()
	if ok && now.Sub(c.at) < time.Second {
		return c.ch, c.cfg, nil
	}
	ch, err := w.app.ChannelForEntry(ctx, id)
	if err != nil || ch.Kind != sb.KindChat {
		if err != nil && !sb.IsKind(err, sb.NotFound) {
			return nil, nil, err
		}
		return nil, nil, sb.E("widget", sb.NotFound, "channel_not_found", "no such chat channel")
	}
	cfg, err := ParseConfig(ch.Config)
	if err != nil {
		// A config stored before the check existed: serve the defaults.
		cfg, _ = ParseConfig(nil)
	}
	w.chans.mu.Lock()
	if w.chans.m == nil || len(w.chans.m) > 10_000 {
		w.chans.m = map[string]cachedChannel{}
	}
	w.chans.m[id] = cachedChannel{ch: ch, cfg: cfg, at: now}
	w.chans.mu.Unlock()
	return ch, cfg, nil
}

// tokenRE is what a visitor token and a client message id look like.
var (
	tokenRE    = regexp.MustCompile(`^[A-Za-z0-9_-]{16,128}$`)
	clientIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

func checkToken(op, token string) error {
	if !tokenRE.MatchString(token) {
		return sb.Invalidf(op, "visitor_token", "visitor_token must be 16 to 128 letters, digits, - or _ (the widget makes one)")
	}
	return nil
}

// externalID is the inbound message's external id for a visitor's client
// message id: scoped to the visitor's token, so that one visitor can
// neither collide with nor look up another's messages, and idempotent, so
// that a message re-sent after a lost connection is stored once.
func externalID(token, clientID string) string {
	h := sha256.Sum256([]byte(token))
	return "w:" + hex.EncodeToString(h[:8]) + ":" + clientID
}

// clientIDOf recovers the client message id from a visitor message's
// external id.
func clientIDOf(m *sb.Message) string {
	if m.Direction != sb.DirectionIn || !strings.HasPrefix(m.ExternalID, "w:") {
		return ""
	}
	_, id, _ := strings.Cut(m.ExternalID[2:], ":")
	return id
}

// errorBody is the API's error shape.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func describe(err error) errorDetail {
	code, msg := sb.PublicMessage(err)
	d := errorDetail{Code: code, Message: msg}
	var e *sb.Error
	if errors.As(err, &e) && e.Kind != sb.Internal {
		d.Field = e.Field
	}
	return d
}

// fail writes err in the API's error shape; internal errors are logged.
func (w *Widget) fail(rw http.ResponseWriter, r *http.Request, err error) {
	k := sb.KindOf(err)
	if k == sb.Internal || k == sb.Unavailable {
		w.log.ErrorContext(r.Context(), "widget request failed", "path", r.URL.Path, "err", err)
	}
	writeJSON(rw, httpapi.StatusOf(k), errorBody{describe(err)})
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(v)
}

var errRateLimited = sb.E("widget", sb.RateLimited, "rate_limited", "too many messages; wait a moment and try again")

var errOrigin = sb.E("widget", sb.Forbidden, "origin_not_allowed", "this site may not embed the chat: add its origin to the channel's config.allowed_origins")
