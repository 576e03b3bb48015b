package proxy

import (
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pushlab/pushlab/mmpush"
)

// metrics are the proxy's Prometheus series. Names:
//
//	pushlab_proxy_requests_total{platform,type}            send_push requests that passed validation
//	pushlab_proxy_bad_requests_total{endpoint,reason}      answered FAIL before any send
//	pushlab_proxy_acks_total{platform,type}                acks received
//	pushlab_proxy_sends_total{provider,result,reason}      final verdicts (OK / REMOVE / FAIL)
//	pushlab_proxy_retries_total{provider,reason}           tries the proxy added
//	pushlab_proxy_tries_total{provider,class}              tries by how far they got: answered, never_sent, unconfirmed
//	pushlab_proxy_unconfirmed_total{provider,reason}       tries sent and not answered: timeout, connection_lost, goaway, stream_reset
//	pushlab_proxy_resends_total{provider,reason}           unconfirmed tries sent again (ResendPolicy collapse or upstream)
//	pushlab_proxy_collapses_total{provider,reason}         of those, resends carrying a collapse id (shown once)
//	pushlab_proxy_late_answers_total{provider,result}      answers that came after their try's timeout (a late OK counts)
//	pushlab_proxy_provider_attempts_total{provider,status} HTTP exchanges, the client libraries' own retries included
//	pushlab_proxy_send_seconds{provider}                   one try, histogram
//	pushlab_proxy_request_seconds{endpoint}                one API request, histogram
//	pushlab_proxy_throttled_total                          requests answered 429
type metrics struct {
	requests    *prometheus.CounterVec
	badRequests *prometheus.CounterVec
	acks        *prometheus.CounterVec
	sends       *prometheus.CounterVec
	retries     *prometheus.CounterVec
	tries       *prometheus.CounterVec
	unconfirmed *prometheus.CounterVec
	resends     *prometheus.CounterVec
	collapses   *prometheus.CounterVec
	lateAnswers *prometheus.CounterVec
	attempts    *prometheus.CounterVec
	sendSeconds *prometheus.HistogramVec
	reqSeconds  *prometheus.HistogramVec
	throttled   prometheus.Counter

	// The series every send touches, kept after their first use.
	apns, fcm providerSeries
	endpoint  [2]hot[prometheus.Observer] // reqSeconds: send_push, ack
}

// hot is a child of a vector, kept after its first use: WithLabelValues
// hashes the label values and takes the vector's lock on every call. It is
// made on first use, not ahead, so that /metrics shows a series only once
// it has counted something, as with WithLabelValues alone.
type hot[T any] struct{ p atomic.Pointer[T] }

func (h *hot[T]) get(make func() T) T {
	if p := h.p.Load(); p != nil {
		return *p
	}
	v := make()
	h.p.Store(&v)
	return v
}

// providerSeries are one provider's series on the path of a send that goes well.
type providerSeries struct {
	sendSeconds hot[prometheus.Observer]
	tries       [3]hot[prometheus.Counter] // by tryClass
	attemptOK   hot[prometheus.Counter]    // provider_attempts_total{status="200"}
	sendOK      hot[prometheus.Counter]    // sends_total{result="OK",reason=""}
}

func (m *metrics) of(p Provider) *providerSeries {
	if p == FCM {
		return &m.fcm
	}
	return &m.apns
}

// observeSend records one try's duration.
func (m *metrics) observeSend(p Provider, seconds float64) {
	m.of(p).sendSeconds.get(func() prometheus.Observer { return m.sendSeconds.WithLabelValues(string(p)) }).Observe(seconds)
}

// countTry counts one try by its class.
func (m *metrics) countTry(p Provider, c tryClass) {
	m.of(p).tries[c].get(func() prometheus.Counter { return m.tries.WithLabelValues(string(p), c.String()) }).Inc()
}

// countSend counts a send's final verdict.
func (m *metrics) countSend(p Provider, result, reason string) {
	if result != mmpush.StatusOK || reason != "" {
		m.sends.WithLabelValues(string(p), result, reason).Inc()
		return
	}
	m.of(p).sendOK.get(func() prometheus.Counter { return m.sends.WithLabelValues(string(p), result, reason) }).Inc()
}

// observeRequest records one API request's duration.
func (m *metrics) observeRequest(endpoint string, seconds float64) {
	i := 1
	if endpoint == "send_push" {
		i = 0
	} else if endpoint != "ack" {
		m.reqSeconds.WithLabelValues(endpoint).Observe(seconds)
		return
	}
	m.endpoint[i].get(func() prometheus.Observer { return m.reqSeconds.WithLabelValues(endpoint) }).Observe(seconds)
}

const namespace = "pushlab_proxy"

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "requests_total",
			Help: "send_push requests that passed validation, by app type and push type."}, []string{"platform", "type"}),
		badRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "bad_requests_total",
			Help: "Requests answered FAIL before any send (bad body, missing field, unknown platform)."}, []string{"endpoint", "reason"}),
		acks: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "acks_total",
			Help: "Delivery receipts received at /api/v1/ack."}, []string{"platform", "type"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "sends_total",
			Help: "Final verdicts of sends: result OK, REMOVE or FAIL, with the provider's reason."}, []string{"provider", "result", "reason"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "retries_total",
			Help: "Tries the proxy added after a retryable failure."}, []string{"provider", "reason"}),
		tries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "tries_total",
			Help: "Tries to a provider by how far they got: answered, never_sent (safe to retry), unconfirmed (sent, no answer)."}, []string{"provider", "class"}),
		unconfirmed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "unconfirmed_total",
			Help: "Tries sent in full that got no answer, by how the answer was lost."}, []string{"provider", "reason"}),
		resends: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "resends_total",
			Help: "Unconfirmed tries sent again, by how the first answer was lost."}, []string{"provider", "reason"}),
		collapses: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "collapses_total",
			Help: "Resends carrying a collapse id, which the provider and device show as one notification with the original."}, []string{"provider", "reason"}),
		lateAnswers: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "late_answers_total",
			Help: "Answers that arrived after their try's timeout, by the verdict (a late OK decides the send)."}, []string{"provider", "result"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "provider_attempts_total",
			Help: "HTTP exchanges with a provider, including the client libraries' own retries; status 0 = no answer."}, []string{"provider", "status"}),
		sendSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "send_seconds",
			Help: "Duration of one try to a provider.", Buckets: prometheus.DefBuckets}, []string{"provider"}),
		reqSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "request_seconds",
			Help: "Duration of one API request.", Buckets: prometheus.DefBuckets}, []string{"endpoint"}),
		throttled: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "throttled_total",
			Help: "Requests answered 429 by the per-client throttle."}),
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.requests, m.badRequests, m.acks, m.sends, m.retries, m.tries, m.unconfirmed, m.resends, m.collapses, m.lateAnswers, m.attempts,
		m.sendSeconds, m.reqSeconds, m.throttled} {
		errs = append(errs, reg.Register(c))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *metrics) observeAttempt(p Provider, status int) {
	if m == nil {
		return
	}
	if status == http.StatusOK {
		m.of(p).attemptOK.get(func() prometheus.Counter { return m.attempts.WithLabelValues(string(p), "200") }).Inc()
		return
	}
	m.attempts.WithLabelValues(string(p), strconv.Itoa(status)).Inc()
}
