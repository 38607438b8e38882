package httpapi

import (
	"net/http"

	"github.com/switchboard-dev/switchboard/app"
)

// getSMTPSettings is GET /api/v1/settings/smtp (admins).
func (s *server) getSMTPSettings(w http.ResponseWriter, r *http.Request, a app.Actor) {
	v, err := s.app.SMTPSettings(r.Context(), a)
	s.reply(w, r, http.StatusOK, v, err)
}

// putSMTPSettings is PUT /api/v1/settings/smtp (admins).
func (s *server) putSMTPSettings(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var in app.SMTPSettingsInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.app.SetSMTPSettings(r.Context(), a, in)
	s.reply(w, r, http.StatusOK, v, err)
}
