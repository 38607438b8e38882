// Package web is the agents' web inbox and the admins' settings: pages
// rendered on the server with html/template, a little hand-written
// JavaScript and CSS, all embedded in the binary.
//
// The package only translates, like httpapi: every read and change goes
// through the use cases of package app, which hold every role and access
// check. Pages read through app directly; the page's script changes
// things through the JSON API (/api/v1) with the session cookie, and
// listens to the API's event stream for live updates.
//
// Sessions: signing in runs app.Login and keeps the bearer token it issues
// in an HttpOnly, SameSite=Lax cookie (Secure over TLS) named
// httpapi.SessionCookie, which the API accepts as well. Tokens live in the
// database, so a session survives restarts and works on every process of
// a PostgreSQL deployment. Signing out revokes the token (app.Logout).
// Every state-changing request is checked by http.CrossOriginProtection.
package web

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/switchboard-dev/switchboard/app"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the pages need. App is required.
type Config struct {
	App    *app.Service
	Logger *slog.Logger // nil discards
	// LoginLimit is how many sign-in attempts one IP address, and one
	// email address, may make per minute (default 10); a burst of as many
	// is allowed.
	LoginLimit int
	// Now is the clock for "5 min ago" (default time.Now).
	Now func() time.Time
}

// Handler serves the pages. Mount it on a mux.
type Handler struct {
	app     *app.Service
	log     *slog.Logger
	tmpl    *template.Template
	limits  *loginLimits
	cop     *http.CrossOriginProtection
	now     func() time.Time
	statics http.Handler
}

// New parses the templates and returns the pages' handler. It panics if
// cfg.App is nil or a template does not parse (a bug caught by any test).
func New(cfg Config) *Handler {
	if cfg.App == nil {
		panic("web: Config.App is required")
	}
	h := &Handler{app: cfg.App, log: cfg.Logger, cop: http.NewCrossOriginProtection(), now: cfg.Now}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	limit := cfg.LoginLimit
	if limit <= 0 {
		limit = 10
	}
	h.limits = newLoginLimits(limit)
	h.tmpl = template.Must(template.New("").Funcs(h.funcs()).ParseFS(templateFS, "templates/*.html"))
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	h.statics = http.StripPrefix("/static/", http.FileServerFS(sub))
	return h
}

// Mount registers the pages on mux: / (to the inbox or the sign-in
// page), /login, /logout, /app/... and /static/....
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", h.root)
	mux.HandleFunc("GET /login", h.loginPage)
	mux.Handle("POST /login", h.cop.Handler(http.HandlerFunc(h.login)))
	mux.Handle("POST /logout", h.cop.Handler(http.HandlerFunc(h.logout)))
	mux.Handle("GET /static/", http.HandlerFunc(h.static))

	mux.Handle("GET /app", h.page(h.inbox))
	mux.Handle("GET /app/parts", h.page(h.parts))
	mux.Handle("GET /app/settings", http.RedirectHandler("/app/settings/users", http.StatusSeeOther))
	mux.Handle("GET /app/settings/users", h.page(h.settingsUsers))
	mux.Handle("GET /app/settings/teams", h.page(h.settingsTeams))
	mux.Handle("GET /app/settings/inboxes", h.page(h.settingsInboxes))
	mux.Handle("GET /app/settings/channels", h.page(h.settingsChannels))
	mux.Handle("GET /app/settings/channels/{id}", h.page(h.settingsChannel))
}

// static serves the embedded CSS and JavaScript. They change only with the
// binary, so browsers may keep them for an hour.
func (h *Handler) static(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	h.statics.ServeHTTP(w, r)
}

func (h *Handler) root(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.session(r); ok {
		http.Redirect(w, r, "/app", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
