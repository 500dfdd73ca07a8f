package http

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the Prometheus series Hebao exports, on one registry that /metrics
// serves. They live apart from the Server because the store is opened first and
// feeds the ledger series through ObserveCommit.
type Metrics struct {
	registry *prometheus.Registry
	handler  http.Handler

	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	commitBatch    prometheus.Histogram
	commitDuration prometheus.Histogram
}

// NewMetrics creates Hebao's series on reg (a fresh registry if nil). It fails if
// reg already holds them.
func NewMetrics(reg *prometheus.Registry) (*Metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &Metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hebao_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hebao_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		commitBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hebao_ledger_commit_batch_size",
			Help:    "Transactions committed together in one database commit (group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12), // 1 … 2048
		}),
		commitDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hebao_ledger_commit_duration_seconds",
			Help:    "Time to run and commit one batch of ledger transactions.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.commitBatch, m.commitDuration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m, nil
}

// ObserveCommit records one database commit of batchSize transactions that took
// elapsed. The store calls it after each commit; it is safe for concurrent use.
func (m *Metrics) ObserveCommit(batchSize int, elapsed time.Duration) {
	m.commitBatch.Observe(float64(batchSize))
	m.commitDuration.Observe(elapsed.Seconds())
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler { return m.handler }

// observeRequest counts one answered request. route is a pattern's path, or
// "unmatched"; method is kept to the standard ones so that neither label can be made
// to grow by a client.
func (m *Metrics) observeRequest(route, method string, status int, elapsed time.Duration) {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
	default:
		method = "OTHER"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(elapsed.Seconds())
}
