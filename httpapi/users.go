package httpapi

import (
	"net/http"

	"github.com/switchboard-dev/switchboard/app"
)

// userID is the {id} path value, with "me" meaning the caller.
func userID(r *http.Request, a app.Actor) string {
	if id := r.PathValue("id"); id != "me" {
		return id
	}
	return a.UserID
}

// listUsers is GET /api/v1/users.
func (s *server) listUsers(w http.ResponseWriter, r *http.Request, a app.Actor) {
	q, err := pageParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	us, err := s.app.ListUsers(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := pageOf(us, func(u *app.UserView) string { return u.ID }, q)
	s.reply(w, r, http.StatusOK, p, err)
}

// createUser is POST /api/v1/users (admins only).
func (s *server) createUser(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var in app.UserInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	u, err := s.app.CreateUser(r.Context(), a, in)
	s.reply(w, r, http.StatusCreated, u, err)
}

// getUser is GET /api/v1/users/{id} ("me" for oneself).
func (s *server) getUser(w http.ResponseWriter, r *http.Request, a app.Actor) {
	u, err := s.app.GetUser(r.Context(), a, userID(r, a))
	s.reply(w, r, http.StatusOK, u, err)
}

// updateUser is PATCH /api/v1/users/{id} (admins only).
func (s *server) updateUser(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var p app.UserPatch
	if err := s.decode(w, r, &p); err != nil {
		s.fail(w, r, err)
		return
	}
	u, err := s.app.UpdateUser(r.Context(), a, userID(r, a), p)
	s.reply(w, r, http.StatusOK, u, err)
}

// setStatus is PUT /api/v1/users/{id}/status: the availability toggle
// (R-V1, R-V3); "me" for oneself.
func (s *server) setStatus(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var in app.StatusInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	u, err := s.app.SetStatus(r.Context(), a, userID(r, a), in)
	s.reply(w, r, http.StatusOK, u, err)
}
