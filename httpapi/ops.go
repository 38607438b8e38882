package httpapi

import (
	"context"
	"net/http"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/apidoc"
)

// healthTimeout bounds the database check of GET /healthz.
const healthTimeout = 3 * time.Second

// healthz is GET /healthz: {"status":"ok"} once a cheap query reaches the
// database, 503 in the error shape when it does not.
func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	err := s.app.Store().View(ctx, func(tx sb.Tx) error {
		_, err := tx.CountAccounts(ctx)
		return err
	})
	if err != nil {
		s.fail(w, r, &sb.Error{Op: "httpapi.healthz", Kind: sb.Unavailable, Code: "database_unavailable",
			Message: "the database cannot be reached", Err: err})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// openAPI is GET /api/v1/openapi.json: the OpenAPI 3.1 document of this
// API, public.
func (s *server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(apidoc.JSON())
}
