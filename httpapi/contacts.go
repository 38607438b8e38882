package httpapi

import (
	"net/http"

	"github.com/switchboard-dev/switchboard/app"
)

// listContacts is GET /api/v1/contacts?cursor=&limit=.
func (s *server) listContacts(w http.ResponseWriter, r *http.Request, a app.Actor) {
	q, err := pageParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.app.ListContacts(r.Context(), a, q.cursor, q.limit)
	s.reply(w, r, http.StatusOK, nonNil(p), err)
}

// createContact is POST /api/v1/contacts.
func (s *server) createContact(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var in app.ContactInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.app.CreateContact(r.Context(), a, in)
	s.reply(w, r, http.StatusCreated, c, err)
}

// getContact is GET /api/v1/contacts/{id}.
func (s *server) getContact(w http.ResponseWriter, r *http.Request, a app.Actor) {
	c, err := s.app.GetContact(r.Context(), a, r.PathValue("id"))
	s.reply(w, r, http.StatusOK, c, err)
}

// updateContact is PATCH /api/v1/contacts/{id}.
func (s *server) updateContact(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var p app.ContactPatch
	if err := s.decode(w, r, &p); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.app.UpdateContact(r.Context(), a, r.PathValue("id"), p)
	s.reply(w, r, http.StatusOK, c, err)
}
