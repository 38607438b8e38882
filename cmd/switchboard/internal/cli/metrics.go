package cli

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// routingMetrics is app.Metrics on Prometheus.
type routingMetrics struct {
	routed  *prometheus.CounterVec
	latency prometheus.Histogram
	batch   prometheus.Histogram
	phases  *prometheus.HistogramVec
}

// newRegistry returns a registry with the Go and process collectors and
// the routing metrics registered on it.
func newRegistry() (*prometheus.Registry, *routingMetrics) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m := &routingMetrics{
		routed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_conversations_routed_total",
			Help: "Routing decisions made for inbound messages, by outcome (assigned, unassigned, waiting, kept).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "switchboard_routing_latency_seconds",
			Help:    "Time from an inbound message's arrival at the router to the commit of its routing decision.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	m.batch = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "switchboard_routing_batch_size",
		Help:    "Inbound messages routed together in one transaction (group commit; see docs/ARCHITECTURE.md).",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128},
	})
	m.phases = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "switchboard_routing_batch_phase_seconds",
		Help:    "Wall time of each phase of a routing transaction: lock, snapshot, prefetch, route, write, commit.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	}, []string{"phase"})
	reg.MustRegister(m.routed, m.latency, m.batch, m.phases)
	// Known outcomes show up as 0 before the first message, so that rate()
	// and alerts work from the start.
	for _, o := range []string{sb.OutcomeAssigned, sb.OutcomeUnassigned, sb.OutcomeWaiting, sb.OutcomeKept} {
		m.routed.WithLabelValues(o)
	}
	return reg, m
}

// Routed implements app.Metrics.
func (m *routingMetrics) Routed(outcome string, latency time.Duration) {
	m.routed.WithLabelValues(outcome).Inc()
	m.latency.Observe(latency.Seconds())
}

// Batch implements app.Metrics.
func (m *routingMetrics) Batch(size int, t app.BatchTimes) {
	m.batch.Observe(float64(size))
	for _, p := range []struct {
		name string
		d    time.Duration
	}{{"lock", t.Lock}, {"snapshot", t.Snapshot}, {"prefetch", t.Prefetch}, {"route", t.Route}, {"write", t.Write}, {"commit", t.Commit}} {
		m.phases.WithLabelValues(p.name).Observe(p.d.Seconds())
	}
}

// metricsHandler serves the registry in Prometheus' exposition format.
func metricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}
