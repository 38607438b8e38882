package httpapi

import (
	"mime"
	"net/http"
	"time"

	sb "github.com/switchboard-dev/switchboard"
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

// getAttachment is GET /api/v1/conversations/{id}/attachments/{sha256}:
// an email attachment's bytes, always as a download (never rendered on
// the API's origin).
func (s *server) getAttachment(w http.ResponseWriter, r *http.Request, a app.Actor) {
	ref, err := s.app.Attachment(r.Context(), a, r.PathValue("id"), r.PathValue("sha256"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.attachments == nil {
		s.fail(w, r, sb.E("httpapi.getAttachment", sb.NotFound, "attachment_missing", "this server keeps no attachment files"))
		return
	}
	f, err := s.attachments(ref.SHA256)
	if err != nil {
		s.fail(w, r, sb.E("httpapi.getAttachment", sb.NotFound, "attachment_missing", "the attachment's file is missing from the data directory"))
		return
	}
	defer f.Close()
	ct := ref.ContentType
	if _, _, err := mime.ParseMediaType(ct); err != nil || ct == "" {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": ref.Filename}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(w, r, "", time.Time{}, f)
}
