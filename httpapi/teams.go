package httpapi

import (
	"net/http"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// listTeams is GET /api/v1/teams.
func (s *server) listTeams(w http.ResponseWriter, r *http.Request, a app.Actor) {
	q, err := pageParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ts, err := s.app.ListTeams(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := pageOf(ts, func(t *sb.Team) string { return t.ID }, q)
	s.reply(w, r, http.StatusOK, p, err)
}

// createTeam is POST /api/v1/teams (admins only).
func (s *server) createTeam(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var in app.TeamInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.app.CreateTeam(r.Context(), a, in)
	s.reply(w, r, http.StatusCreated, t, err)
}

// updateTeam is PATCH /api/v1/teams/{id} (admins only).
func (s *server) updateTeam(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var p app.TeamPatch
	if err := s.decode(w, r, &p); err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.app.UpdateTeam(r.Context(), a, r.PathValue("id"), p)
	s.reply(w, r, http.StatusOK, t, err)
}

// deleteTeam is DELETE /api/v1/teams/{id} (admins only; 409 while in use).
func (s *server) deleteTeam(w http.ResponseWriter, r *http.Request, a app.Actor) {
	s.noContent(w, r, s.app.DeleteTeam(r.Context(), a, r.PathValue("id")))
}
