package httpapi

import (
	"net/http"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// listConversations is GET /api/v1/conversations?view=&inbox_id=&team_id=
// &cursor=&limit=: R-M5's views, newest activity first, only what the
// caller may see (R-I4).
func (s *server) listConversations(w http.ResponseWriter, r *http.Request, a app.Actor) {
	pq, err := pageParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	p, err := s.app.ListConversations(r.Context(), a, app.ListQuery{
		View: q.Get("view"), InboxID: q.Get("inbox_id"), TeamID: q.Get("team_id"), Cursor: pq.cursor, Limit: pq.limit,
	})
	s.reply(w, r, http.StatusOK, nonNil(p), err)
}

// getConversation is GET /api/v1/conversations/{id}; 404 for one the
// caller may not see (R-I4).
func (s *server) getConversation(w http.ResponseWriter, r *http.Request, a app.Actor) {
	c, err := s.app.GetConversation(r.Context(), a, r.PathValue("id"))
	s.reply(w, r, http.StatusOK, c, err)
}

// listMessages is GET /api/v1/conversations/{id}/messages: the thread,
// oldest first.
func (s *server) listMessages(w http.ResponseWriter, r *http.Request, a app.Actor) {
	q, err := pageParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ms, err := s.app.Messages(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := pageOf(ms, func(m *sb.Message) string { return m.ID }, q)
	s.reply(w, r, http.StatusOK, p, err)
}

// createMessage is POST /api/v1/conversations/{id}/messages: a reply or an
// internal note (201). A reply to an unassigned conversation assigns it to
// the replier in the same step (R-M3).
func (s *server) createMessage(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var in app.ReplyInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.app.Reply(r.Context(), a, r.PathValue("id"), in)
	s.reply(w, r, http.StatusCreated, res, err)
}

// assign is POST /api/v1/conversations/{id}/assign: {"user_id": id|"me"},
// {"team_id": id}, or {"user_id": null} / {} to unassign (R-M2, R-M4, R-I4).
func (s *server) assign(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var in app.AssignInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.app.Assign(r.Context(), a, r.PathValue("id"), in)
	s.reply(w, r, http.StatusOK, c, err)
}

// closeConversation is POST /api/v1/conversations/{id}/close.
func (s *server) closeConversation(w http.ResponseWriter, r *http.Request, a app.Actor) {
	c, err := s.app.SetOpen(r.Context(), a, r.PathValue("id"), false)
	s.reply(w, r, http.StatusOK, c, err)
}

// reopenConversation is POST /api/v1/conversations/{id}/reopen.
func (s *server) reopenConversation(w http.ResponseWriter, r *http.Request, a app.Actor) {
	c, err := s.app.SetOpen(r.Context(), a, r.PathValue("id"), true)
	s.reply(w, r, http.StatusOK, c, err)
}

// routingRecord is GET /api/v1/conversations/{id}/routing: the routing
// decisions of R-A12, oldest first.
func (s *server) routingRecord(w http.ResponseWriter, r *http.Request, a app.Actor) {
	q, err := pageParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ds, err := s.app.RoutingRecord(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := pageOf(ds, func(d *sb.Decision) string { return d.ID }, q)
	s.reply(w, r, http.StatusOK, p, err)
}
