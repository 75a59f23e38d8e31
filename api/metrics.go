package api

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds the API's metrics. It is its own registry rather than the global one so that
// tests can build several servers in one process.
type Registry struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewRegistry creates the API's metrics. countByStatus, when set, gives the number of
// bookings in each status; it is asked at most once per bookingsCountTTL, however often
// Prometheus (or several) scrape.
func NewRegistry(countByStatus func(ctx context.Context) (map[string]int, error)) *Registry {
	m := &Registry{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "booking_http_requests_total", Help: "HTTP requests by method, route and status code.",
		}, []string{"method", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "booking_http_request_duration_seconds", Help: "HTTP request latency by method and route.",
			Buckets: []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route"}),
	}
	m.reg.MustRegister(m.requests, m.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if countByStatus != nil {
		m.reg.MustRegister(&bookingsCollector{count: countByStatus})
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Prometheus is the underlying registry, for adding the Temporal SDK's metrics.
func (m *Registry) Prometheus() *prometheus.Registry { return m.reg }

// middleware counts requests by their route template, not their path, so ids do not explode
// the label space.
func (m *Registry) middleware(router *mux.Router) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			route := "unmatched"
			var match mux.RouteMatch
			if router.Match(r, &match) && match.Route != nil {
				if tpl, err := match.Route.GetPathTemplate(); err == nil {
					route = tpl
				}
			}
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			m.requests.WithLabelValues(r.Method, route, strconv.Itoa(rec.status)).Inc()
			m.latency.WithLabelValues(r.Method, route).Observe(time.Since(start).Seconds())
		})
	}
}

var bookingsDesc = prometheus.NewDesc("booking_bookings", "Bookings by status.", []string{"status"}, nil)

// bookingsCountTTL is how long a count of bookings by status is reused.
const bookingsCountTTL = 30 * time.Second

type bookingsCollector struct {
	count func(ctx context.Context) (map[string]int, error)

	mu     sync.Mutex
	at     time.Time
	counts map[string]int
}

func (c *bookingsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- bookingsDesc }

func (c *bookingsCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil || time.Since(c.at) > bookingsCountTTL {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		counts, err := c.count(ctx)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(bookingsDesc, err)
			return
		}
		c.counts, c.at = counts, time.Now()
	}
	for status, n := range c.counts {
		ch <- prometheus.MustNewConstMetric(bookingsDesc, prometheus.GaugeValue, float64(n), status)
	}
}
