package httpapi

import (
	"net/http"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// listInboxes is GET /api/v1/inboxes: all for admins, the accessible ones
// for agents (R-I4).
func (s *server) listInboxes(w http.ResponseWriter, r *http.Request, a app.Actor) {
	q, err := pageParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ins, err := s.app.ListInboxes(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := pageOf(ins, func(in *sb.Inbox) string { return in.ID }, q)
	s.reply(w, r, http.StatusOK, p, err)
}

// createInbox is POST /api/v1/inboxes (admins only; R-I1).
func (s *server) createInbox(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var in app.InboxInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	inbox, err := s.app.CreateInbox(r.Context(), a, in)
	s.reply(w, r, http.StatusCreated, inbox, err)
}

// updateInbox is PATCH /api/v1/inboxes/{id} (edit access, R-I3, R-I4).
func (s *server) updateInbox(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var p app.InboxPatch
	if err := s.decode(w, r, &p); err != nil {
		s.fail(w, r, err)
		return
	}
	inbox, err := s.app.UpdateInbox(r.Context(), a, r.PathValue("id"), p)
	s.reply(w, r, http.StatusOK, inbox, err)
}
