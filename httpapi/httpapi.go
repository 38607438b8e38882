// Package httpapi is Switchboard's JSON HTTP API under /api/v1: one handler
// per endpoint over the use cases of package app, plus /healthz, /metrics
// and the OpenAPI document.
//
// The package only translates. It decodes requests, authenticates the
// bearer token, calls app and writes the result or the error; every role
// and access check is app's. Its outside shape is fixed by API.md and
// described by the OpenAPI document of package apidoc:
//
//   - single resources answer the JSON object itself, lists
//     {"items": [...], "next_cursor": "..."} (next_cursor left out on the
//     last page);
//   - errors answer {"error": {"code", "message", "field"?}} with a status
//     that fits the error's sb.Kind (see StatusOf);
//   - creates answer 201, changes 200, deletes 204.
package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-dev/switchboard/app"
)

// Defaults of Config.
const (
	DefaultMaxBodyBytes      = 1 << 20
	DefaultHeartbeatInterval = 15 * time.Second
)

// Config is what the API needs. App is required.
type Config struct {
	App    *app.Service
	Logger *slog.Logger // nil discards
	// Registerer receives the HTTP metrics; nil means no metrics.
	Registerer prometheus.Registerer
	// Gatherer serves GET /metrics. Nil means Registerer when that is also
	// a Gatherer (a *prometheus.Registry); with neither, /metrics is not
	// served.
	Gatherer prometheus.Gatherer
	// MetricsToken, if set, is the bearer token GET /metrics requires.
	// Without it only loopback clients may read /metrics (a proxy on the
	// same host must then not pass /metrics on).
	MetricsToken string
	// MaxBodyBytes bounds a request body (default 1 MiB); larger ones get 413.
	MaxBodyBytes int64
	// HeartbeatInterval is how often the event stream sends a comment line
	// and records the listener as active (R-V2); default 15 s.
	HeartbeatInterval time.Duration
	// Attachments, if set, opens an email attachment by its SHA-256 for
	// GET /api/v1/conversations/{id}/attachments/{sha256}.
	Attachments func(sha256 string) (io.ReadSeekCloser, error)
	// Extra, if set, mounts more routes (web pages, the chat widget) on the
	// same mux. They get the same request id, access log, metrics and panic
	// recovery, but no authentication.
	Extra func(mux *http.ServeMux)
}

// server holds the handlers' dependencies.
type server struct {
	app       *app.Service
	log       *slog.Logger
	maxBody   int64
	heartbeat time.Duration
	metrics   *metrics // nil without a Registerer
	mux       *http.ServeMux
	// metricsToken guards GET /metrics (guardMetrics).
	metricsToken string

	attachments func(sha256 string) (io.ReadSeekCloser, error)
}

// New returns the API's handler: every /api/v1 route of API.md (the
// widget, form and webhook entry points are other packages'), GET /healthz,
// GET /metrics (if configured) and whatever cfg.Extra mounts, wrapped in the
// request id, access log, metrics and panic recovery middleware. It panics
// if cfg.App is nil.
func New(cfg Config) http.Handler {
	if cfg.App == nil {
		panic("httpapi: Config.App is required")
	}
	s := &server{app: cfg.App, log: cfg.Logger, maxBody: cfg.MaxBodyBytes, heartbeat: cfg.HeartbeatInterval, mux: http.NewServeMux()}
	s.attachments, s.metricsToken = cfg.Attachments, cfg.MetricsToken
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.heartbeat <= 0 {
		s.heartbeat = DefaultHeartbeatInterval
	}
	if cfg.Registerer != nil {
		s.metrics = newMetrics(cfg.Registerer)
	}
	gatherer := cfg.Gatherer
	if g, ok := cfg.Registerer.(prometheus.Gatherer); ok && gatherer == nil {
		gatherer = g
	}
	s.routes(gatherer)
	if cfg.Extra != nil {
		cfg.Extra(s.mux)
	}
	return s
}

// routes registers every endpoint. Handlers that take an app.Actor are
// behind the bearer-token check; the others are public.
func (s *server) routes(gatherer prometheus.Gatherer) {
	m := s.mux
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /api/v1/openapi.json", s.openAPI)
	if gatherer != nil {
		m.Handle("GET /metrics", s.guardMetrics(metricsHandler(gatherer)))
	}
	m.HandleFunc("POST /api/v1/setup", s.setup)
	m.HandleFunc("POST /api/v1/tokens", s.createToken)

	m.Handle("GET /api/v1/users", s.authed(s.listUsers))
	m.Handle("POST /api/v1/users", s.authed(s.createUser))
	m.Handle("GET /api/v1/users/{id}", s.authed(s.getUser))
	m.Handle("PATCH /api/v1/users/{id}", s.authed(s.updateUser))
	m.Handle("PUT /api/v1/users/{id}/status", s.authed(s.setStatus))

	m.Handle("GET /api/v1/routing/weights", s.authed(s.getWeights))
	m.Handle("PUT /api/v1/routing/weights", s.authed(s.putWeights))
	m.Handle("POST /api/v1/routing/simulate", s.authed(s.simulate))

	m.Handle("GET /api/v1/teams", s.authed(s.listTeams))
	m.Handle("POST /api/v1/teams", s.authed(s.createTeam))
	m.Handle("PATCH /api/v1/teams/{id}", s.authed(s.updateTeam))
	m.Handle("DELETE /api/v1/teams/{id}", s.authed(s.deleteTeam))

	m.Handle("GET /api/v1/inboxes", s.authed(s.listInboxes))
	m.Handle("POST /api/v1/inboxes", s.authed(s.createInbox))
	m.Handle("PATCH /api/v1/inboxes/{id}", s.authed(s.updateInbox))
	m.Handle("GET /api/v1/inboxes/{id}/channels", s.authed(s.listInboxChannels))
	m.Handle("POST /api/v1/inboxes/{id}/channels", s.authed(s.createInboxChannel))

	m.Handle("GET /api/v1/channels", s.authed(s.listChannels))
	m.Handle("POST /api/v1/channels", s.authed(s.createChannel))
	m.Handle("GET /api/v1/channels/{id}", s.authed(s.getChannel))
	m.Handle("PATCH /api/v1/channels/{id}", s.authed(s.updateChannel))
	m.Handle("DELETE /api/v1/channels/{id}", s.authed(s.deleteChannel))
	m.Handle("POST /api/v1/channels/{id}/inbound", s.authedInbound(s.inbound))

	m.Handle("GET /api/v1/integration-tokens", s.authed(s.listIntegrationTokens))
	m.Handle("POST /api/v1/integration-tokens", s.authed(s.createIntegrationToken))
	m.Handle("DELETE /api/v1/integration-tokens/{id}", s.authed(s.deleteIntegrationToken))
	m.Handle("GET /api/v1/channels/{id}/chatflow", s.authed(s.getChatflow))
	m.Handle("PUT /api/v1/channels/{id}/chatflow", s.authed(s.putChatflow))

	m.Handle("GET /api/v1/contacts", s.authed(s.listContacts))
	m.Handle("POST /api/v1/contacts", s.authed(s.createContact))
	m.Handle("GET /api/v1/contacts/{id}", s.authed(s.getContact))
	m.Handle("PATCH /api/v1/contacts/{id}", s.authed(s.updateContact))

	m.Handle("GET /api/v1/conversations", s.authed(s.listConversations))
	m.Handle("GET /api/v1/conversations/{id}", s.authed(s.getConversation))
	m.Handle("GET /api/v1/conversations/{id}/messages", s.authed(s.listMessages))
	m.Handle("POST /api/v1/conversations/{id}/messages", s.authed(s.createMessage))
	m.Handle("POST /api/v1/conversations/{id}/assign", s.authed(s.assign))
	m.Handle("POST /api/v1/conversations/{id}/close", s.authed(s.closeConversation))
	m.Handle("POST /api/v1/conversations/{id}/reopen", s.authed(s.reopenConversation))
	m.Handle("GET /api/v1/conversations/{id}/routing", s.authed(s.routingRecord))
	m.Handle("POST /api/v1/conversations/{id}/signal", s.authed(s.chatSignal))

	m.Handle("GET /api/v1/events", s.authed(s.events))

	m.Handle("GET /api/v1/tickets", s.authed(s.listTickets))
	m.Handle("POST /api/v1/tickets", s.authed(s.createTicket))
	m.Handle("GET /api/v1/tickets/{id}", s.authed(s.getTicket))
	m.Handle("PATCH /api/v1/tickets/{id}", s.authed(s.updateTicket))
	m.Handle("GET /api/v1/pipelines", s.authed(s.listPipelines))
	m.Handle("POST /api/v1/pipelines", s.authed(s.createPipeline))
	m.Handle("GET /api/v1/pipelines/{id}", s.authed(s.getPipeline))
	m.Handle("PATCH /api/v1/pipelines/{id}", s.authed(s.updatePipeline))
	m.Handle("GET /api/v1/ticket-settings", s.authed(s.getTicketSettings))
	m.Handle("PATCH /api/v1/ticket-settings", s.authed(s.updateTicketSettings))
	m.Handle("GET /api/v1/conversations/{id}/flags", s.authed(s.conversationFlags))

	m.Handle("GET /api/v1/webhooks", s.authed(s.listWebhooks))
	m.Handle("POST /api/v1/webhooks", s.authed(s.createWebhook))
	m.Handle("GET /api/v1/webhooks/{id}", s.authed(s.getWebhook))
	m.Handle("PATCH /api/v1/webhooks/{id}", s.authed(s.updateWebhook))
	m.Handle("DELETE /api/v1/webhooks/{id}", s.authed(s.deleteWebhook))
	m.Handle("GET /api/v1/webhooks/{id}/deliveries", s.authed(s.listWebhookDeliveries))

	m.Handle("GET /api/v1/settings/smtp", s.authed(s.getSMTPSettings))
	m.Handle("PUT /api/v1/settings/smtp", s.authed(s.putSMTPSettings))
	m.Handle("GET /api/v1/conversations/{id}/attachments/{sha256}", s.authed(s.getAttachment))
}
