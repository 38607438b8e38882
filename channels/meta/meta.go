// Package meta connects Facebook Messenger pages and WhatsApp Business
// numbers: their webhooks (GET and POST /webhooks/messenger and
// /webhooks/whatsapp, verified by Meta's X-Hub-Signature-256), and replies
// sent through the Graph API with the platforms' reply windows (R-F1 …
// R-F4). See docs/channels.md.
package meta

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/channels/internal/hook"
)

// Job kinds of the package.
const (
	JobMessengerSend    = "messenger.send"    // a reply or automated message to a Messenger user
	JobMessengerConsent = "messenger.consent" // the explicit consent prompt (R-F2)
	JobMessengerProfile = "messenger.profile" // push the greeting to the page (R-F2)
	JobWhatsAppSend     = "whatsapp.send"     // a reply to a WhatsApp user
)

// Reply windows (R-F3, R-F4).
const (
	StandardWindow   = 24 * time.Hour
	HumanAgentWindow = 7 * 24 * time.Hour
)

// Config is what the package needs. App is required.
type Config struct {
	App    *app.Service
	Logger *slog.Logger
	// AppSecret verifies webhook signatures (--meta-app-secret); a
	// channel's config.app_secret is tried too, for pages and numbers of
	// other Meta apps.
	AppSecret string
	// VerifyToken answers the subscription handshake (--meta-verify-token).
	VerifyToken string
	// GraphURL is the Graph API's base URL (default DefaultGraphURL).
	GraphURL   string
	HTTPClient *http.Client
}

// Meta is the Messenger and WhatsApp entry point.
type Meta struct {
	app         *app.Service
	log         *slog.Logger
	appSecret   string
	verifyToken string
	graph       *Graph
}

// New returns the entry point and registers, on cfg.App, the Messenger
// and WhatsApp kinds' config checks (R-F1), their outbound rules and
// senders (R-F3, R-F4) and its job handlers. Call it before App.Start.
func New(cfg Config) *Meta {
	m := &Meta{app: cfg.App, log: cfg.Logger, appSecret: cfg.AppSecret, verifyToken: cfg.VerifyToken,
		graph: &Graph{BaseURL: cfg.GraphURL, HTTP: cfg.HTTPClient}}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.graph.BaseURL == "" {
		m.graph.BaseURL = DefaultGraphURL
	}
	a := cfg.App
	a.RegisterChannelKind(sb.KindMessenger, app.ChannelKindHooks{Check: checkMessenger, Saved: m.messengerSaved})
	a.RegisterChannelKind(sb.KindWhatsApp, app.ChannelKindHooks{Check: checkWhatsApp})
	a.RegisterOutbound(sb.KindMessenger, app.Outbound{Check: m.checkMessengerReply, JobKind: JobMessengerSend})
	a.RegisterOutbound(sb.KindWhatsApp, app.Outbound{Check: m.checkWhatsAppReply, JobKind: JobWhatsAppSend})
	a.HandleJobs(JobMessengerSend, m.sendMessenger)
	a.HandleJobs(JobMessengerConsent, m.sendConsentPrompt)
	a.HandleJobs(JobMessengerProfile, m.pushProfile)
	a.HandleJobs(JobWhatsAppSend, m.sendWhatsApp)
	return m
}

// Mount registers the webhook routes: the installation's URLs, and each
// channel's own (for pages and numbers of other Meta apps).
func (m *Meta) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /webhooks/messenger", m.handshake)
	mux.HandleFunc("POST /webhooks/messenger", m.messengerWebhook)
	mux.HandleFunc("GET /webhooks/whatsapp", m.handshake)
	mux.HandleFunc("POST /webhooks/whatsapp", m.whatsappWebhook)
	for _, k := range []sb.ChannelKind{sb.KindMessenger, sb.KindWhatsApp} {
		mux.HandleFunc("GET /webhooks/"+string(k)+"/{channel_id}", m.channelWebhook(k))
		mux.HandleFunc("POST /webhooks/"+string(k)+"/{channel_id}", m.channelWebhook(k))
	}
}

// verified checks a webhook's signature with the installation's secret,
// then with the channel secrets candidates names (channel id → secret).
// It returns whether the installation secret matched and the channel ids
// whose secret matched, or the error to answer (401 unsigned, 403 wrong),
// which it logs without any secret.
func (m *Meta) verified(r *http.Request, body []byte, candidates map[string]string) (global bool, channels map[string]bool, err error) {
	sig := r.Header.Get("X-Hub-Signature-256")
	if err := hook.Verify(sig, body, m.appSecret); err == nil {
		return true, nil, nil
	} else if err == hook.ErrUnsigned {
		m.log.Warn("unsigned webhook refused", "path", r.URL.Path, "remote", r.RemoteAddr, "bytes", len(body))
		return false, nil, err
	}
	channels = map[string]bool{}
	for id, secret := range candidates {
		if hook.Verify(sig, body, secret) == nil {
			channels[id] = true
		}
	}
	if len(channels) == 0 {
		m.log.Warn("webhook with a wrong signature refused", "path", r.URL.Path, "remote", r.RemoteAddr, "bytes", len(body),
			"installation_secret_configured", m.appSecret != "", "channel_secrets_tried", len(candidates))
		return false, nil, hook.ErrBadSignature
	}
	return false, channels, nil
}

// channelFor finds the channel holding key, caching within one webhook.
func (m *Meta) channelFor(ctx context.Context, cache map[string]*sb.Channel, key string) (*sb.Channel, error) {
	if c, ok := cache[key]; ok {
		return c, nil
	}
	c, err := m.app.ChannelByKey(ctx, key)
	if sb.IsKind(err, sb.NotFound) {
		c, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	cache[key] = c
	return c, nil
}
