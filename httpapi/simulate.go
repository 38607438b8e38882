package httpapi

import (
	"bytes"
	"net/http"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// simulate is POST /api/v1/routing/simulate (admins only): a dry run
// (R-X6) that changes nothing. ?format=html answers the HTML report and
// ?format=table the terminal table instead of JSON.
func (s *server) simulate(w http.ResponseWriter, r *http.Request, a app.Actor) {
	format := r.URL.Query().Get("format")
	switch format {
	case "", "json", "html", "table":
	default:
		s.fail(w, r, sb.Invalidf("httpapi.simulate", "format", "format must be json, html or table"))
		return
	}
	var in app.SimulateInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.app.Simulate(r.Context(), a, in)
	if err != nil || format == "" || format == "json" {
		s.reply(w, r, http.StatusOK, c, err)
		return
	}
	var buf bytes.Buffer
	ct := "text/html; charset=utf-8"
	if format == "html" {
		err = c.WriteHTML(&buf)
	} else {
		ct = "text/plain; charset=utf-8"
		err = c.WriteTable(&buf)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}
