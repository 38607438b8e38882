package httpapi

import (
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	sb "github.com/switchboard-dev/switchboard"
)

// metrics are the HTTP layer's Prometheus collectors. route is the mux
// pattern that matched ("GET /api/v1/users/{id}"), or "unmatched", so the
// label's values are bounded.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newMetrics registers the collectors with reg. If reg already has them
// (a second server on the same registry), the registered ones are shared.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern (event streams count until they end).",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	m.requests = register(reg, m.requests)
	m.duration = register(reg, m.duration)
	return m
}

// register registers c with reg, or returns the collector already there.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	if err != nil {
		panic("httpapi: registering metrics: " + err.Error())
	}
	return c
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// metricsHandler serves GET /metrics from g.
func metricsHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// guardMetrics lets GET /metrics through for a request that bears the
// metrics token, or, when none is configured, for a loopback client: the
// metrics show the installation's traffic and should not be public.
func (s *server) guardMetrics(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const op = "httpapi.metrics"
		if s.metricsToken != "" {
			if token, ok := bearerToken(r); ok && subtle.ConstantTimeCompare([]byte(token), []byte(s.metricsToken)) == 1 {
				h.ServeHTTP(w, r)
				return
			}
			s.fail(w, r, sb.E(op, sb.Unauthenticated, "bad_metrics_token",
				"GET /metrics needs the metrics token (serve --metrics-token) as Authorization: Bearer"))
			return
		}
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
				h.ServeHTTP(w, r)
				return
			}
		}
		s.fail(w, r, sb.E(op, sb.Forbidden, "metrics_loopback_only",
			"GET /metrics answers loopback clients only; set serve --metrics-token to scrape it from elsewhere"))
	})
}
