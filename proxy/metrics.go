package proxy

import (
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
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
	m.attempts.WithLabelValues(string(p), strconv.Itoa(status)).Inc()
}
