package httpapi

import (
	"net/http"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
)

// SessionCookie is the name of the web inbox's session cookie. It holds a
// bearer token (issued by sign-in, revoked by sign-out), so that the
// page's JavaScript can call the API and open the event stream with the
// browser's cookie instead of a header the script would have to keep.
const SessionCookie = "sb_session"

// crossOrigin refuses state-changing requests that a browser marks as
// coming from another site (Sec-Fetch-Site, or an Origin that is not the
// Host). Requests without those headers (curl, integrations) pass: they
// carry no ambient cookie.
var crossOrigin = http.NewCrossOriginProtection()

// credentials returns the request's token: the Authorization header's, or
// else the session cookie's. A cookie-authenticated request that changes
// state must pass the cross-origin check (CSRF).
func credentials(r *http.Request) (token string, err error) {
	if token, ok := bearerToken(r); ok {
		return token, nil
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || strings.TrimSpace(c.Value) == "" {
		return "", sb.E("httpapi.authed", sb.Unauthenticated, "unauthenticated",
			"sign in first: send Authorization: Bearer <token> (get one with POST /api/v1/tokens)")
	}
	if err := crossOrigin.Check(r); err != nil {
		return "", &httpError{status: http.StatusForbidden, code: "cross_origin",
			message: "this request came from another site and was refused (cross-site request forgery protection)"}
	}
	return c.Value, nil
}
