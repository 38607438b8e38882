package httpapi

import (
	"net/http"

	"github.com/switchboard-dev/switchboard/app"
)

// Outbound webhook subscriptions and their deliveries (R-X8), admins only,
// described in apidoc/parts/webhooks.json.

// listWebhooks is GET /api/v1/webhooks.
func (s *server) listWebhooks(w http.ResponseWriter, r *http.Request, a app.Actor) {
	q, err := pageParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ws, err := s.app.ListWebhooks(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := pageOf(ws, func(v *app.WebhookView) string { return v.ID }, q)
	s.reply(w, r, http.StatusOK, p, err)
}

// createWebhook is POST /api/v1/webhooks: the answer shows the secret once.
func (s *server) createWebhook(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var in app.WebhookInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.app.CreateWebhook(r.Context(), a, in)
	s.reply(w, r, http.StatusCreated, v, err)
}

// getWebhook is GET /api/v1/webhooks/{id}.
func (s *server) getWebhook(w http.ResponseWriter, r *http.Request, a app.Actor) {
	v, err := s.app.GetWebhook(r.Context(), a, r.PathValue("id"))
	s.reply(w, r, http.StatusOK, v, err)
}

// updateWebhook is PATCH /api/v1/webhooks/{id}.
func (s *server) updateWebhook(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var p app.WebhookPatch
	if err := s.decode(w, r, &p); err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.app.UpdateWebhook(r.Context(), a, r.PathValue("id"), p)
	s.reply(w, r, http.StatusOK, v, err)
}

// deleteWebhook is DELETE /api/v1/webhooks/{id}.
func (s *server) deleteWebhook(w http.ResponseWriter, r *http.Request, a app.Actor) {
	s.noContent(w, r, s.app.DeleteWebhook(r.Context(), a, r.PathValue("id")))
}

// listWebhookDeliveries is GET /api/v1/webhooks/{id}/deliveries: attempts,
// newest first, with the receivers' answers.
func (s *server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request, a app.Actor) {
	q, err := pageParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.app.WebhookDeliveries(r.Context(), a, r.PathValue("id"), q.cursor, q.limit)
	s.reply(w, r, http.StatusOK, nonNil(p), err)
}
