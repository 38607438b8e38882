package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// maxRequestIDLen bounds an X-Request-Id taken from the client.
const maxRequestIDLen = 128

type ctxKey int

const requestIDKey ctxKey = 0

// ServeHTTP is the middleware around the mux, outermost first: request id,
// access log and metrics, panic recovery, then routing (with the error
// shape for unknown routes and wrong methods).
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := requestID(r)
	w.Header().Set("X-Request-Id", id)
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
	sw := &statusWriter{ResponseWriter: w}
	defer s.observe(sw, r, start)
	defer s.recover(sw, r)
	if h, pattern := s.mux.Handler(r); pattern == "" {
		s.notRouted(sw, r, h)
		return
	}
	// The mux sets r.Pattern on r itself, so observe sees the route.
	s.mux.ServeHTTP(sw, r)
}

// requestID returns the client's X-Request-Id if it is sane, or a new one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= maxRequestIDLen && printableASCII(id) {
		return id
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// requestIDFrom returns the request id stored in ctx.
func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// recover turns a panic into a logged 500 in the error shape (if nothing
// was written yet). http.ErrAbortHandler is passed on.
func (s *server) recover(w *statusWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	s.log.ErrorContext(r.Context(), "handler panicked", "request_id", requestIDFrom(r.Context()),
		"method", r.Method, "route", r.Pattern, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	if w.status == 0 {
		code, msg := sb.PublicMessage(nil) // the generic message of an internal error
		writeJSON(w, http.StatusInternalServerError, errorBody{errorDetail{Code: code, Message: msg}})
	}
}

// observe writes the access log line and the request metrics. It never
// logs headers or bodies.
func (s *server) observe(w *statusWriter, r *http.Request, start time.Time) {
	d := time.Since(start)
	status := w.status
	if status == 0 {
		status = http.StatusOK // the handler wrote nothing
	}
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelWarn
	}
	s.log.LogAttrs(r.Context(), level, "http request",
		slog.String("method", r.Method), slog.String("route", route), slog.Int("status", status),
		slog.Duration("duration", d), slog.Int64("bytes", w.bytes), slog.String("request_id", requestIDFrom(r.Context())))
	if s.metrics != nil {
		s.metrics.observe(route, r.Method, status, d)
	}
}

// statusWriter records the status and size of a response. It passes
// Flush on (for the event stream) and unwraps for http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush sends buffered data to the client.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
