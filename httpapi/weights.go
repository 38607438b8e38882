package httpapi

import (
	"net/http"

	"github.com/switchboard-dev/switchboard/app"
)

// getWeights is GET /api/v1/routing/weights (admins only, R-X5).
func (s *server) getWeights(w http.ResponseWriter, r *http.Request, a app.Actor) {
	wt, err := s.app.Weights(r.Context(), a)
	s.reply(w, r, http.StatusOK, wt, err)
}

// putWeights is PUT /api/v1/routing/weights (admins only, R-X5).
func (s *server) putWeights(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var in app.WeightsInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	wt, err := s.app.SetWeights(r.Context(), a, in)
	s.reply(w, r, http.StatusOK, wt, err)
}
