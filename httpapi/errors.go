package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	sb "github.com/switchboard-dev/switchboard"
)

// StatusOf is the HTTP status of an error kind: the one mapping every HTTP
// entry point (the API, the widget, the webhooks) answers errors with.
func StatusOf(k sb.Kind) int {
	switch k {
	case sb.Invalid:
		return http.StatusBadRequest
	case sb.Unauthenticated:
		return http.StatusUnauthorized
	case sb.Forbidden:
		return http.StatusForbidden
	case sb.NotFound:
		return http.StatusNotFound
	case sb.Conflict:
		return http.StatusConflict
	case sb.TooLarge:
		return http.StatusRequestEntityTooLarge
	case sb.RuleViolation:
		return http.StatusUnprocessableEntity
	case sb.RateLimited:
		return http.StatusTooManyRequests
	case sb.Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// httpError is an error of the HTTP layer itself that no sb.Kind names
// (415 unsupported media type, 405 method not allowed). Its message is
// public.
type httpError struct {
	status  int
	code    string
	message string
	field   string
}

func (e *httpError) Error() string { return e.message }

// errorBody is the shape of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// fail writes err in the error shape. Internal errors (and anything that is
// not an *sb.Error) are logged with the request id and answered with a
// generic message; their text is never sent.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, body := s.describe(r, err)
	switch status {
	case http.StatusUnauthorized:
		v := "Bearer"
		if sb.IsKind(err, sb.Unauthenticated) && r.Header.Get("Authorization") != "" {
			v = `Bearer error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", v)
	case http.StatusTooManyRequests:
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "1")
		}
	}
	writeJSON(w, status, body)
}

// describe maps err to its status and public body, logging what must not
// be shown.
func (s *server) describe(r *http.Request, err error) (int, errorBody) {
	var he *httpError
	if errors.As(err, &he) {
		return he.status, errorBody{errorDetail{Code: he.code, Message: he.message, Field: he.field}}
	}
	kind := sb.KindOf(err)
	status := StatusOf(kind)
	code, msg := sb.PublicMessage(err)
	d := errorDetail{Code: code, Message: msg}
	var e *sb.Error
	if errors.As(err, &e) && kind != sb.Internal {
		d.Field = e.Field
	}
	switch kind {
	case sb.Internal:
		s.log.ErrorContext(r.Context(), "request failed", "request_id", requestIDFrom(r.Context()),
			"method", r.Method, "route", r.Pattern, "err", err)
	case sb.Unavailable:
		s.log.WarnContext(r.Context(), "request failed: unavailable", "request_id", requestIDFrom(r.Context()),
			"method", r.Method, "route", r.Pattern, "err", err)
	}
	return status, errorBody{d}
}

// writeJSON writes v as the response body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a bug can get here (an unencodable type); say so in the shape.
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"Something went wrong on our side; the error has been logged."}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// reply writes v with status, or err in the error shape.
func (s *server) reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, status, v)
}

// noContent answers 204, or err in the error shape.
func (s *server) noContent(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// notRouted answers a request that matched no route: 404, or 405 with the
// Allow header the mux worked out when the path exists for other methods.
func (s *server) notRouted(w http.ResponseWriter, r *http.Request, h http.Handler) {
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		if allow := rec.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		s.fail(w, r, &httpError{status: http.StatusMethodNotAllowed, code: "method_not_allowed",
			message: r.Method + " is not allowed here; allowed: " + rec.header.Get("Allow")})
		return
	}
	s.fail(w, r, &httpError{status: http.StatusNotFound, code: "not_found", message: "there is no such endpoint: " + r.Method + " " + r.URL.Path})
}

// headerRecorder catches the status and headers of the mux's own 404 and
// 405 handlers and throws their plain-text body away.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}
