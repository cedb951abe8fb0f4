package defender

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the client's own metrics, shared by the clients of every
// tenant. A nil *Metrics is valid and records nothing.
type Metrics struct {
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	throttled *prometheus.CounterVec
	retries   *prometheus.CounterVec

	// removed holds the tenants DeleteTenant dropped, until a client of
	// the same name is built again: whatever a removed tenant's client
	// still records (a request cancelled by the reload that removed it)
	// would bring its series back for good. mu makes a recording and a
	// deletion atomic with respect to each other.
	mu      sync.RWMutex
	removed map[string]bool
}

// NewMetrics creates the metrics and registers them with reg (nil: not
// registered). Registering twice on the same registry reuses the collectors
// already there, so a reload may call it again.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		removed: map[string]bool{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "defender_api_requests_total",
			Help: "HTTP requests sent to Defender, Graph and Entra, by path template and HTTP status (\"error\" when no answer came).",
		}, []string{"tenant", "api", "endpoint", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "defender_api_request_duration_seconds",
			Help:    "Duration of HTTP requests to Defender, Graph and Entra, including reading the answer.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60},
		}, []string{"tenant", "api", "endpoint"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "defender_api_throttled_total",
			Help: "Answers with HTTP 429 (Too Many Requests) from Defender or Graph.",
		}, []string{"tenant", "api"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "defender_api_retries_total",
			Help: "Requests sent again after a 5xx, a 429, a 401 (with a fresh token) or a network error.",
		}, []string{"tenant", "api"}),
	}
	if reg != nil {
		m.requests = register(reg, m.requests)
		m.duration = register(reg, m.duration)
		m.throttled = register(reg, m.throttled)
		m.retries = register(reg, m.retries)
	}
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}

// DeleteTenant drops every series of a tenant that was removed from the
// configuration, so that it does not linger until restart, and records
// nothing more for it until a client of that name is built again. The
// refusal is this Metrics' own: a second NewMetrics on the same registry
// does not share it.
func (m *Metrics) DeleteTenant(tenant string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removed[tenant] = true
	l := prometheus.Labels{"tenant": tenant}
	m.requests.DeletePartialMatch(l)
	m.duration.DeletePartialMatch(l)
	m.throttled.DeletePartialMatch(l)
	m.retries.DeletePartialMatch(l)
}

// observe records one HTTP exchange. code is the HTTP status, or 0 for
// "no answer".
func (m *Metrics) observe(tenant string, api API, endpoint string, code int, d time.Duration) {
	if m == nil {
		return
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.removed[tenant] {
		return
	}
	c := "error"
	if code > 0 {
		c = strconv.Itoa(code)
	}
	m.requests.WithLabelValues(tenant, string(api), endpoint, c).Inc()
	m.duration.WithLabelValues(tenant, string(api), endpoint).Observe(d.Seconds())
}

func (m *Metrics) throttle(tenant string, api API) {
	if m == nil {
		return
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.removed[tenant] {
		return
	}
	m.throttled.WithLabelValues(tenant, string(api)).Inc()
}

func (m *Metrics) retry(tenant string, api API) {
	if m == nil {
		return
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.removed[tenant] {
		return
	}
	m.retries.WithLabelValues(tenant, string(api)).Inc()
}

// initTenant creates a tenant's throttle and retry series at zero, so that
// increase() sees the first 429 of a tenant instead of starting from it.
// A client being built for the tenant means it is configured (again).
func (m *Metrics) initTenant(tenant string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.removed, tenant)
	for _, api := range []API{APIMDE, APIXDR, APIGraph, APIEntra} {
		m.throttled.WithLabelValues(tenant, string(api))
		m.retries.WithLabelValues(tenant, string(api))
	}
}
