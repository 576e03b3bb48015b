package mockkit

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics reads a mock's counters when Prometheus scrapes, so the request
// path pays nothing beyond the Recorder's and Hub's own bookkeeping.
type metrics struct {
	c *Control

	requests, outcomes, drops, tokens, online, pending *prometheus.Desc
}

func newMetrics(c *Control) *metrics {
	labels := prometheus.Labels{"provider": c.Provider}
	d := func(name, help string, vars ...string) *prometheus.Desc {
		return prometheus.NewDesc("pushlab_mock_"+name, help, vars, labels)
	}
	return &metrics{c: c,
		requests: d("requests_total", "Provider API requests by HTTP status and reason (APNs reason or FCM error code).", "status", "reason"),
		outcomes: d("pushes_total", "Accepted notifications by what the push channel did: delivered, stored, dropped.", "outcome"),
		drops:    d("dropped_total", "Notifications discarded by the provider's storage rules, by reason.", "reason"),
		tokens:   d("tokens", "Device tokens issued, by whether the app is installed.", "installed"),
		online:   d("devices_online", "Tokens with a connected device."),
		pending:  d("pending", "Notifications stored for offline devices."),
	}
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.requests, m.outcomes, m.drops, m.tokens, m.online, m.pending} {
		ch <- d
	}
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	for a, n := range m.c.Recorder.Counts() {
		ch <- prometheus.MustNewConstMetric(m.requests, prometheus.CounterValue, float64(n), strconv.Itoa(a.Status), a.Reason)
	}
	st := m.c.Hub.Stats()
	for o, n := range st.Outcomes {
		ch <- prometheus.MustNewConstMetric(m.outcomes, prometheus.CounterValue, float64(n), string(o))
	}
	for r, n := range st.Drops {
		ch <- prometheus.MustNewConstMetric(m.drops, prometheus.CounterValue, float64(n), r)
	}
	installed, gone := 0, 0
	for _, r := range m.c.Registry.List() {
		if r.Installed {
			installed++
		} else {
			gone++
		}
	}
	ch <- prometheus.MustNewConstMetric(m.tokens, prometheus.GaugeValue, float64(installed), "true")
	ch <- prometheus.MustNewConstMetric(m.tokens, prometheus.GaugeValue, float64(gone), "false")
	ch <- prometheus.MustNewConstMetric(m.online, prometheus.GaugeValue, float64(st.Online))
	ch <- prometheus.MustNewConstMetric(m.pending, prometheus.GaugeValue, float64(st.Pending))
}

// metricsHandler serves this mock's metrics from a registry of its own, so
// several mocks live in one process without clashing.
func (c *Control) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(newMetrics(c))
	reg.MustRegister(c.Collectors...)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
