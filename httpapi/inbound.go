package httpapi

import (
	"net/http"

	"github.com/switchboard-dev/switchboard/app"
)

// inbound is POST /api/v1/channels/{id}/inbound: a message from a contact
// on any channel, for integrators. It answers 201 with the conversation,
// the message and the routing decision, or 200 when external_id was seen
// before and nothing new was stored (duplicate true).
func (s *server) inbound(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var in app.InboundInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.app.Inbound(r.Context(), a, r.PathValue("id"), in)
	status := http.StatusCreated
	if err == nil && res.Duplicate {
		status = http.StatusOK
	}
	s.reply(w, r, status, res, err)
}
