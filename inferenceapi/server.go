// Package inferenceapi serves the HTTP API of Weaviate's multi2vec-clip
// inference container over mclip's encoders, so that stock Weaviate with
//
//	ENABLE_MODULES=multi2vec-clip
//	CLIP_INFERENCE_API=http://127.0.0.1:8080   (or http://mclip:TOKEN@host:port)
//
// gets multilingual nearText and nearImage from them (`mclip serve`).
//
// Routes, as the container and Weaviate's client use them:
//
//	GET  /.well-known/live   204
//	GET  /.well-known/ready  204 once the models are loaded, else 503
//	GET  /meta               {"clip_model": {...}, "text_model": {...}, ...}
//	POST /vectorize          {"texts": [...], "images": [base64...]} ->
//	                         {"textVectors": [[...]], "imageVectors": [[...]]}
//	GET  /metrics            Prometheus
//
// A failed request answers {"error": "..."} (the field Weaviate shows its
// user) naming each failed item by its request index: 400 for bad JSON or a
// rejected input, 413 for a body or item count over the limits, 429 with
// Retry-After when a request waited QueueTimeout for room in the memory
// budget, 401 without the token, 503 while loading or shutting down, 500
// for an encoder fault (details only in the log).
//
// Requests beyond what the memory budget holds wait for room instead of
// being refused (see budget): stock Weaviate sends runtime.NumCPU()
// requests per batch at once and never retries a failed one.
//
// Beyond the container, the items of concurrent requests share model calls
// (see batcher): Weaviate sends one request per object, so a batch import
// runs at batch throughput while a lone query is dispatched at once.
package inferenceapi

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mclip-go/mclip/config"
)

// Encoder turns texts and base64 images into vectors, one vector or one
// error per item. vectorizer.Encoder implements it.
type Encoder interface {
	EncodeTexts(ctx context.Context, texts []string) ([][]float32, []error)
	EncodeImagesBase64(ctx context.Context, images []string) ([][]float32, []error)
}

// Defaults of Options.
const (
	DefaultMaxBodyBytes    = 64 << 20
	DefaultMaxTexts        = 1024
	DefaultMaxImages       = 64
	DefaultShutdownTimeout = 30 * time.Second
)

// Options configure a Server. Zero values take the defaults (BatchSize:
// config.DefaultBatchSize, MemoryBudget: config.DefaultRequestMemory,
// QueueTimeout: config.DefaultQueueTimeout), except MaxWait: zero disables
// lingering for a batch (config.DefaultBatchWait is the command's default).
type Options struct {
	// BatchSize is the largest number of items in one model call.
	BatchSize int
	// MaxWait is how long a batch may wait for more requests while traffic
	// is concurrent; a request arriving at an idle server never waits.
	MaxWait time.Duration
	// MaxBodyBytes bounds a request body (413 beyond).
	MaxBodyBytes int64
	// MaxTexts and MaxImages bound the items of one request (413 beyond).
	MaxTexts, MaxImages int
	// MemoryBudget bounds the bytes that admitted vectorize requests hold
	// (their bodies, decoded strings and images, results; see budget). A
	// request that does not fit waits for room. It must hold one request
	// of MaxBodyBytes.
	MemoryBudget int64
	// QueueTimeout bounds a request's wait for room in MemoryBudget (429
	// with Retry-After beyond).
	QueueTimeout time.Duration
	// NoCrossRequestBatching keeps each model call to the items of one
	// request, as the Python container does (for comparison).
	NoCrossRequestBatching bool
	// Token, when set, is required on POST /vectorize as a bearer token or
	// as the password of basic authentication (so that a CLIP_INFERENCE_API
	// of http://mclip:TOKEN@host:port works with stock Weaviate).
	Token string
	// ShutdownTimeout bounds the drain of in-flight requests.
	ShutdownTimeout time.Duration
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.BatchSize, config.DefaultBatchSize)
	def(&o.MaxTexts, DefaultMaxTexts)
	def(&o.MaxImages, DefaultMaxImages)
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MemoryBudget == 0 {
		o.MemoryBudget = config.DefaultRequestMemory
	}
	if o.QueueTimeout == 0 {
		o.QueueTimeout = config.DefaultQueueTimeout
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	for _, c := range []struct {
		name string
		v    int64
	}{
		{"batch size", int64(o.BatchSize)}, {"max texts", int64(o.MaxTexts)},
		{"max images", int64(o.MaxImages)}, {"max body bytes", o.MaxBodyBytes},
		{"memory budget", o.MemoryBudget}, {"queue timeout", int64(o.QueueTimeout)},
		{"shutdown timeout", int64(o.ShutdownTimeout)},
	} {
		if c.v < 0 {
			errs = append(errs, fmt.Errorf("%s %d: must not be negative", c.name, c.v))
		}
	}
	if o.MaxWait < 0 || o.MaxWait > time.Second {
		errs = append(errs, fmt.Errorf("max wait %v: want 0 (off) to 1s", o.MaxWait))
	}
	if len(errs) == 0 {
		if need := worstCharge(o.MaxBodyBytes, o.MaxTexts+o.MaxImages); need > o.MemoryBudget {
			errs = append(errs, fmt.Errorf("memory budget %d bytes (%s): one request of the largest body (%d bytes) may need %d bytes (%s); raise the budget (mclip serve --request-memory, %s) or lower the body limit (--max-body-bytes)",
				o.MemoryBudget, formatBytes(o.MemoryBudget), o.MaxBodyBytes, need, formatBytes(need), config.EnvRequestMemory))
		}
	}
	return o, errors.Join(errs...)
}

// Server is the inference API. Its handler answers from the start: ready
// and vectorize report 503 until SetReady hands it the encoder.
type Server struct {
	opts      Options
	log       *slog.Logger
	metrics   *metrics
	tokenHash *[sha256.Size]byte
	budget    *budget
	handler   http.Handler
	// reading counts vectorize requests admitted and not yet queued: the
	// batchers wait briefly for them instead of starting a call without.
	reading atomic.Int64

	// encodeCtx is passed to the encoder; cancelled when a drain times out.
	encodeCtx    context.Context
	cancelEncode context.CancelFunc
	// waitCtx ends the waits for the memory budget when the server starts
	// draining or closes.
	waitCtx  context.Context
	stopWait context.CancelFunc

	mu       sync.Mutex // guards backend changes and closed
	closed   bool
	backend  atomic.Pointer[backend]
	draining atomic.Bool
}

// backend is what SetReady installs.
type backend struct {
	text, image *batcher
	meta        []byte
}

// New returns a Server that is live but not ready.
func New(opts Options) (*Server, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("inference API options: %w", err)
	}
	m := newMetrics()
	s := &Server{
		opts:    opts,
		log:     opts.Logger,
		metrics: m,
		budget:  newBudget(opts.MemoryBudget, opts.QueueTimeout, m),
	}
	if opts.Token != "" {
		h := sha256.Sum256([]byte(opts.Token))
		s.tokenHash = &h
	}
	s.encodeCtx, s.cancelEncode = context.WithCancel(context.Background())
	s.waitCtx, s.stopWait = context.WithCancel(context.Background())
	s.handler = s.routes()
	return s, nil
}

// Handler returns the HTTP handler of every route.
func (s *Server) Handler() http.Handler { return s.handler }

// SetReady installs the encoder and the /meta document (any value that
// marshals to a JSON object) and makes the server ready.
func (s *Server) SetReady(enc Encoder, meta any) error {
	doc, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("marshal /meta document: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	if s.backend.Load() != nil {
		return errors.New("inference API: encoder already set")
	}
	cfg := func(modality string) batcherConfig {
		return batcherConfig{modality: modality, maxBatch: s.opts.BatchSize, maxWait: s.opts.MaxWait, perRequest: s.opts.NoCrossRequestBatching}
	}
	s.backend.Store(&backend{
		text:  newBatcher(s.encodeCtx, cfg("text"), enc.EncodeTexts, s.reading.Load, s.metrics, s.log),
		image: newBatcher(s.encodeCtx, cfg("image"), enc.EncodeImagesBase64, s.reading.Load, s.metrics, s.log),
		meta:  doc,
	})
	s.log.Info("inference API ready", "batch_size", s.opts.BatchSize, "max_wait", s.opts.MaxWait,
		"request_memory", formatBytes(s.opts.MemoryBudget), "queue_timeout", s.opts.QueueTimeout)
	return nil
}

// Close stops the batchers after they finish the queued items. Call it
// once no request is in flight (Serve does).
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.draining.Store(true)
	s.stopWait()
	if b := s.backend.Load(); b != nil {
		b.text.close()
		b.image.close()
	}
	s.cancelEncode()
}

// Serve answers on ln until ctx ends, then stops taking connections, reports
// not ready, lets in-flight requests finish within ShutdownTimeout (after
// which their model calls are cancelled and connections closed), and closes
// the server.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("inference API listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		s.Close()
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.stopWait()
	s.log.Info("inference API draining", "timeout", s.opts.ShutdownTimeout)
	shutCtx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	var drainErr error
	if err := srv.Shutdown(shutCtx); err != nil {
		drainErr = fmt.Errorf("drain in-flight requests: %w", err)
		s.cancelEncode()
		_ = srv.Close()
	}
	<-errc
	s.Close()
	s.log.Info("inference API stopped")
	return drainErr
}
