package httpapi

import (
	"net/http"

	"github.com/switchboard-dev/switchboard/app"
)

// getChatflow is GET /api/v1/channels/{id}/chatflow: a chat channel's
// live-chat or bot flow (admins).
func (s *server) getChatflow(w http.ResponseWriter, r *http.Request, a app.Actor) {
	f, err := s.app.GetChatflow(r.Context(), a, r.PathValue("id"))
	s.reply(w, r, http.StatusOK, f, err)
}

// putChatflow is PUT /api/v1/channels/{id}/chatflow: replaces the flow
// (admins; R-A2, R-A3 and R-A4 checked on its hand-over step).
func (s *server) putChatflow(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var in app.Chatflow
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := s.app.SetChatflow(r.Context(), a, r.PathValue("id"), in)
	s.reply(w, r, http.StatusOK, f, err)
}

// chatSignal is POST /api/v1/conversations/{id}/signal: the agent is typing
// ({"typing": true|false}) or has read up to a message ({"message_id"}),
// for the visitor's chat widget (204).
func (s *server) chatSignal(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var in app.AgentSignalInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	s.noContent(w, r, s.app.AgentSignal(r.Context(), a, r.PathValue("id"), in))
}
