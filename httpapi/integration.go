package httpapi

import (
	"net/http"

	"github.com/switchboard-dev/switchboard/app"
)

// listIntegrationTokens is GET /api/v1/integration-tokens (admins only).
func (s *server) listIntegrationTokens(w http.ResponseWriter, r *http.Request, a app.Actor) {
	ts, err := s.app.IntegrationTokens(r.Context(), a)
	s.reply(w, r, http.StatusOK, app.Page[*app.IntegrationToken]{Items: ts}, err)
}

// createIntegrationToken is POST /api/v1/integration-tokens (admins
// only); the answer holds the token, once.
func (s *server) createIntegrationToken(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var in app.IntegrationTokenInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.app.CreateIntegrationToken(r.Context(), a, in)
	s.reply(w, r, http.StatusCreated, t, err)
}

// deleteIntegrationToken is DELETE /api/v1/integration-tokens/{id}.
func (s *server) deleteIntegrationToken(w http.ResponseWriter, r *http.Request, a app.Actor) {
	s.noContent(w, r, s.app.RevokeIntegrationToken(r.Context(), a, r.PathValue("id")))
}
