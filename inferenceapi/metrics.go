package inferenceapi

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus collectors, in a registry of its own.
type metrics struct {
	registry      *prometheus.Registry
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	inFlight      prometheus.Gauge
	waiting       prometheus.Gauge
	admissionWait prometheus.Histogram
	memoryHeld    prometheus.Gauge
	memoryLimit   prometheus.Gauge
	errors        *prometheus.CounterVec
	batchItems    *prometheus.HistogramVec
	batchRequests *prometheus.HistogramVec
	queueWait     *prometheus.HistogramVec
	modelSeconds  *prometheus.HistogramVec
	queuedItems   *prometheus.GaugeVec
	droppedItems  *prometheus.CounterVec
}

func newMetrics() *metrics {
	sizes := prometheus.ExponentialBuckets(1, 2, 13) // 1 .. 4096
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mclip_http_requests_total",
			Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mclip_http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mclip_vectorize_in_flight",
			Help: "Vectorize requests admitted and not yet answered.",
		}),
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mclip_vectorize_waiting",
			Help: "Vectorize requests waiting for room in the request memory budget.",
		}),
		admissionWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "mclip_vectorize_wait_seconds",
			Help:    "Time a vectorize request waited for room in the request memory budget (0 when it fit at once).",
			Buckets: append([]float64{0}, prometheus.ExponentialBuckets(0.001, 2, 16)...),
		}),
		memoryHeld: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mclip_request_memory_bytes",
			Help: "Bytes of the request memory budget charged to admitted vectorize requests.",
		}),
		memoryLimit: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mclip_request_memory_limit_bytes",
			Help: "The request memory budget.",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mclip_errors_total",
			Help: "Failed vectorize requests and encoder faults by kind.",
		}, []string{"kind"}),
		batchItems: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mclip_batch_items",
			Help:    "Items per model call.",
			Buckets: sizes,
		}, []string{"modality"}),
		batchRequests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mclip_batch_requests",
			Help:    "Requests whose items shared one model call.",
			Buckets: sizes,
		}, []string{"modality"}),
		queueWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mclip_queue_wait_seconds",
			Help:    "Time from a request's arrival in the queue to its first model call.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, []string{"modality"}),
		modelSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "mclip_model_seconds",
			Help:    "Duration of one model call.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"modality"}),
		queuedItems: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mclip_queued_items",
			Help: "Items waiting for a model call.",
		}, []string{"modality"}),
		droppedItems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mclip_dropped_items_total",
			Help: "Queued items dropped because their request went away.",
		}, []string{"modality"}),
	}
	m.registry.MustRegister(
		m.requests, m.duration, m.inFlight, m.waiting, m.admissionWait,
		m.memoryHeld, m.memoryLimit, m.errors,
		m.batchItems, m.batchRequests, m.queueWait, m.modelSeconds,
		m.queuedItems, m.droppedItems,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}
