package web

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/httpapi"
)

// sessionMaxAge is how long the browser keeps the session cookie. The
// token itself lives until sign-out.
const sessionMaxAge = 30 * 24 * time.Hour

// session returns the signed-in actor of r, if any.
func (h *Handler) session(r *http.Request) (app.Actor, bool) {
	c, err := r.Cookie(httpapi.SessionCookie)
	if err != nil || c.Value == "" {
		return app.Actor{}, false
	}
	a, err := h.app.Authenticate(r.Context(), c.Value)
	if err != nil {
		return app.Actor{}, false
	}
	return a, true
}

// setSession stores token in the session cookie.
func setSession(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{Name: httpapi.SessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: int(sessionMaxAge / time.Second)})
}

func clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: httpapi.SessionCookie, Value: "", Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// actorPage is a page handler for a signed-in user.
type actorPage func(w http.ResponseWriter, r *http.Request, a app.Actor) error

// page wraps p: without a session it sends the browser to the sign-in
// page (and back here after), and it renders p's error as a page.
func (h *Handler) page(p actorPage) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := h.session(r)
		if !ok {
			if strings.HasPrefix(r.URL.Path, "/app/parts") {
				http.Error(w, "signed out", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		pageHeaders(w)
		if err := p(w, r, a); err != nil {
			h.fail(w, r, err)
		}
	})
}

// fail renders err as an error page with a fitting status.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	switch sb.KindOf(err) {
	case sb.NotFound:
		status = http.StatusNotFound
	case sb.Forbidden:
		status = http.StatusForbidden
	case sb.Invalid:
		status = http.StatusBadRequest
	case sb.Unavailable:
		status = http.StatusServiceUnavailable
	}
	_, msg := sb.PublicMessage(err)
	if sb.KindOf(err) == sb.Internal {
		h.log.ErrorContext(r.Context(), "page failed", "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = h.tmpl.ExecuteTemplate(w, "error", errorData{base: base{Title: http.StatusText(status)}, Message: msg})
}

// errorData fills the error page.
type errorData struct {
	base
	Message string
}

// pageHeaders are every page's: not cached, not framed by other sites
// (clickjacking), and only this site's scripts and styles (CSP).
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
}

// loginData fills the sign-in page.
type loginData struct {
	base
	Email, Next, Error string
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.session(r); ok {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	h.renderLogin(w, http.StatusOK, loginData{Next: r.URL.Query().Get("next")})
}

func (h *Handler) renderLogin(w http.ResponseWriter, status int, d loginData) {
	d.Title = "Sign in"
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	pageHeaders(w)
	w.WriteHeader(status)
	if err := h.tmpl.ExecuteTemplate(w, "login", d); err != nil {
		h.log.Error("rendering the sign-in page failed", "err", err)
	}
}

// login is POST /login: rate limited per IP address and per email, then
// app.Login; the token goes into the session cookie.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	email, password := strings.TrimSpace(r.PostFormValue("email")), r.PostFormValue("password")
	d := loginData{Email: email, Next: r.PostFormValue("next")}
	if wait := h.limits.allow(clientIP(r), strings.ToLower(email)); wait > 0 {
		w.Header().Set("Retry-After", itoa(int(wait.Seconds()+0.999)))
		d.Error = "Too many sign-in attempts. Wait " + humanWait(wait) + " and try again."
		h.renderLogin(w, http.StatusTooManyRequests, d)
		return
	}
	token, _, err := h.app.Login(r.Context(), app.LoginInput{Email: email, Password: password})
	if err != nil {
		status := http.StatusUnauthorized
		d.Error = "That email and password do not match. Check both and try again."
		if !sb.IsKind(err, sb.Unauthenticated) {
			status = http.StatusServiceUnavailable
			d.Error = "Signing in failed on our side. Try again in a moment."
			h.log.ErrorContext(r.Context(), "sign-in failed", "err", err)
		}
		h.renderLogin(w, status, d)
		return
	}
	setSession(w, r, token)
	http.Redirect(w, r, safeNext(d.Next), http.StatusSeeOther)
}

// logout is POST /logout: revokes the session's token and clears the cookie.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(httpapi.SessionCookie); err == nil && c.Value != "" {
		if err := h.app.Logout(r.Context(), c.Value); err != nil && !sb.IsKind(err, sb.Unauthenticated) {
			h.log.ErrorContext(r.Context(), "sign-out failed", "err", err)
			h.fail(w, r, err)
			return
		}
	}
	clearSession(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/app") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/app"
	}
	return next
}

// clientIP is the connection's address (proxies' headers are not trusted).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginLimits are token buckets per IP address and per email: perMinute
// attempts a minute each, with a burst of as many.
type loginLimits struct {
	mu        sync.Mutex
	perMinute int
	ips       map[string]*limiter
	emails    map[string]*limiter
}

type limiter struct {
	l    *rate.Limiter
	seen time.Time
}

func newLoginLimits(perMinute int) *loginLimits {
	return &loginLimits{perMinute: perMinute, ips: map[string]*limiter{}, emails: map[string]*limiter{}}
}

// allow takes one attempt from the IP's and the email's buckets, or
// returns how long to wait before the next attempt may be made.
func (ll *loginLimits) allow(ip, email string) time.Duration {
	ll.mu.Lock()
	defer ll.mu.Unlock()
	now := time.Now()
	ll.sweep(now)
	var wait time.Duration
	for _, l := range []*limiter{ll.get(ll.ips, ip, now), ll.get(ll.emails, email, now)} {
		res := l.l.ReserveN(now, 1)
		if d := res.DelayFrom(now); d > 0 {
			res.CancelAt(now)
			wait = max(wait, d)
		}
	}
	return wait
}

func (ll *loginLimits) get(m map[string]*limiter, key string, now time.Time) *limiter {
	l, ok := m[key]
	if !ok {
		l = &limiter{l: rate.NewLimiter(rate.Limit(float64(ll.perMinute)/60), ll.perMinute)}
		m[key] = l
	}
	l.seen = now
	return l
}

// sweep forgets buckets idle long enough to be full again, so that the
// maps do not grow without bound.
func (ll *loginLimits) sweep(now time.Time) {
	if len(ll.ips)+len(ll.emails) < 10000 {
		return
	}
	for _, m := range []map[string]*limiter{ll.ips, ll.emails} {
		for k, l := range m {
			if now.Sub(l.seen) > time.Minute {
				delete(m, k)
			}
		}
	}
}

func humanWait(d time.Duration) string {
	s := int(d.Seconds() + 0.999)
	if s <= 1 {
		return "a second"
	}
	if s < 60 {
		return itoa(s) + " seconds"
	}
	return itoa((s+59)/60) + " minutes"
}
