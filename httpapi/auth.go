package httpapi

import (
	"net/http"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// actorHandler is a handler that needs an authenticated caller.
type actorHandler func(w http.ResponseWriter, r *http.Request, a app.Actor)

// authed wraps h with the bearer-token check: Authorization: Bearer
// <token> (or the session cookie, see credentials) is resolved by app.Authenticate (which also records the user as
// active, R-V2) and the actor is passed to h. Missing or bad credentials get 401 with WWW-Authenticate.
// Role checks are app's, not this layer's.
func (s *server) authed(h actorHandler) http.Handler { return s.authenticated(h, false) }

// authedInbound is authed for the generic inbound entry, the one endpoint
// that integration tokens may call (app checks the rest: requireInboundSender).
func (s *server) authedInbound(h actorHandler) http.Handler { return s.authenticated(h, true) }

func (s *server) authenticated(h actorHandler, integrations bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, err := credentials(r) // the bearer token, or the web inbox's session cookie
		if err != nil {
			s.fail(w, r, err)
			return
		}
		a, err := s.app.Authenticate(r.Context(), token)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if a.IsIntegration() && !integrations {
			s.fail(w, r, sb.E("httpapi.authenticate", sb.Forbidden, "integration_token_not_allowed",
				"an integration token may only send inbound messages (POST /api/v1/channels/{id}/inbound); sign in as a person for anything else"))
			return
		}
		h(w, r, a)
	})
}

// bearerToken returns the token of an Authorization: Bearer header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// setup is POST /api/v1/setup: the first account and its admin (201), 409
// once any account exists.
func (s *server) setup(w http.ResponseWriter, r *http.Request) {
	var in app.SetupInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.app.Setup(r.Context(), in)
	s.reply(w, r, http.StatusCreated, res, err)
}

// tokenResult is the answer of POST /api/v1/tokens.
type tokenResult struct {
	Token string        `json:"token"`
	User  *app.UserView `json:"user"`
}

// createToken is POST /api/v1/tokens: email and password for a new bearer
// token (201); 401 for wrong credentials.
func (s *server) createToken(w http.ResponseWriter, r *http.Request) {
	var in app.LoginInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	token, u, err := s.app.Login(r.Context(), in)
	s.reply(w, r, http.StatusCreated, tokenResult{Token: token, User: u}, err)
}
