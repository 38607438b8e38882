package httpapi

import (
	"net/http"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// Tickets, pipelines, the ticket settings and conversation flags (R-T1 …
// R-T4), described in apidoc/parts/tickets.json.

// listTickets is GET /api/v1/tickets?pipeline_id=&stage_id=&owner_id=
// &contact_id=&conversation_id=&cursor=&limit=: newest first, only what
// the caller may see (R-I4).
func (s *server) listTickets(w http.ResponseWriter, r *http.Request, a app.Actor) {
	pq, err := pageParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	p, err := s.app.ListTickets(r.Context(), a, app.TicketQuery{
		PipelineID: q.Get("pipeline_id"), StageID: q.Get("stage_id"), OwnerID: q.Get("owner_id"),
		ContactID: q.Get("contact_id"), ConversationID: q.Get("conversation_id"), Cursor: pq.cursor, Limit: pq.limit,
	})
	s.reply(w, r, http.StatusOK, nonNil(p), err)
}

// createTicket is POST /api/v1/tickets.
func (s *server) createTicket(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var in app.TicketInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	k, err := s.app.CreateTicket(r.Context(), a, in)
	s.reply(w, r, http.StatusCreated, k, err)
}

// getTicket is GET /api/v1/tickets/{id}; 404 for one the caller may not see.
func (s *server) getTicket(w http.ResponseWriter, r *http.Request, a app.Actor) {
	k, err := s.app.GetTicket(r.Context(), a, r.PathValue("id"))
	s.reply(w, r, http.StatusOK, k, err)
}

// updateTicket is PATCH /api/v1/tickets/{id}: name, description, owner
// (R-T2), stage, pipeline.
func (s *server) updateTicket(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var p app.TicketPatch
	if err := s.decode(w, r, &p); err != nil {
		s.fail(w, r, err)
		return
	}
	k, err := s.app.UpdateTicket(r.Context(), a, r.PathValue("id"), p)
	s.reply(w, r, http.StatusOK, k, err)
}

// listPipelines is GET /api/v1/pipelines.
func (s *server) listPipelines(w http.ResponseWriter, r *http.Request, a app.Actor) {
	q, err := pageParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ps, err := s.app.ListPipelines(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := pageOf(ps, func(p *sb.Pipeline) string { return p.ID }, q)
	s.reply(w, r, http.StatusOK, p, err)
}

// getPipeline is GET /api/v1/pipelines/{id}.
func (s *server) getPipeline(w http.ResponseWriter, r *http.Request, a app.Actor) {
	p, err := s.app.GetPipeline(r.Context(), a, r.PathValue("id"))
	s.reply(w, r, http.StatusOK, p, err)
}

// createPipeline is POST /api/v1/pipelines (admins only).
func (s *server) createPipeline(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var in app.PipelineInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.app.CreatePipeline(r.Context(), a, in)
	s.reply(w, r, http.StatusCreated, p, err)
}

// updatePipeline is PATCH /api/v1/pipelines/{id} (admins only): name and
// the ordered stages.
func (s *server) updatePipeline(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var pp app.PipelinePatch
	if err := s.decode(w, r, &pp); err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.app.UpdatePipeline(r.Context(), a, r.PathValue("id"), pp)
	s.reply(w, r, http.StatusOK, p, err)
}

// getTicketSettings is GET /api/v1/ticket-settings.
func (s *server) getTicketSettings(w http.ResponseWriter, r *http.Request, a app.Actor) {
	l, err := s.app.TicketSettings(r.Context(), a)
	s.reply(w, r, http.StatusOK, l, err)
}

// updateTicketSettings is PATCH /api/v1/ticket-settings (admins only).
func (s *server) updateTicketSettings(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var p app.TicketSettingsPatch
	if err := s.decode(w, r, &p); err != nil {
		s.fail(w, r, err)
		return
	}
	l, err := s.app.UpdateTicketSettings(r.Context(), a, p)
	s.reply(w, r, http.StatusOK, l, err)
}

// conversationFlags is GET /api/v1/conversations/{id}/flags (R-T3's
// ticket_limit_reached).
func (s *server) conversationFlags(w http.ResponseWriter, r *http.Request, a app.Actor) {
	q, err := pageParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	fs, err := s.app.ConversationFlags(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := pageOf(fs, func(f *sb.ConversationFlag) string { return f.Flag }, q)
	s.reply(w, r, http.StatusOK, p, err)
}
