package inferenceapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/vectorizer/itemerror"
)

// Routes.
const (
	routeLive      = "/.well-known/live"
	routeReady     = "/.well-known/ready"
	routeMeta      = "/meta"
	routeVectorize = "/vectorize"
	routeMetrics   = "/metrics"
)

// maxItemErrors is how many failed items an error message names.
const maxItemErrors = 5

func (s *Server) routes() http.Handler {
	metricsHandler := promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := r.URL.Path
		rec := &statusRecorder{ResponseWriter: w}
		start := time.Now()
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("handler panicked", "route", route, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				s.metrics.errors.WithLabelValues("handler_panic").Inc()
				if !rec.wrote {
					writeError(rec, http.StatusInternalServerError, "internal error")
				}
			}
			label := route
			switch route {
			case routeLive, routeReady, routeMeta, routeVectorize, routeMetrics:
			default:
				label = "other"
			}
			s.metrics.requests.WithLabelValues(label, strconv.Itoa(rec.code())).Inc()
			s.metrics.duration.WithLabelValues(label).Observe(time.Since(start).Seconds())
		}()
		switch route {
		case routeLive:
			if allow(rec, r, http.MethodGet) {
				rec.WriteHeader(http.StatusNoContent)
			}
		case routeReady:
			if allow(rec, r, http.MethodGet) {
				s.ready(rec)
			}
		case routeMeta:
			if allow(rec, r, http.MethodGet) {
				s.meta(rec)
			}
		case routeMetrics:
			if allow(rec, r, http.MethodGet) {
				metricsHandler.ServeHTTP(rec, r)
			}
		case routeVectorize:
			if allow(rec, r, http.MethodPost) {
				s.vectorize(rec, r)
			}
		default:
			writeError(rec, http.StatusNotFound, "no such route: "+strconv.Quote(route))
		}
	})
}

// allow answers 405 unless r uses method (GET also allows HEAD).
func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method || (method == http.MethodGet && r.Method == http.MethodHead) {
		return true
	}
	w.Header().Set("Allow", method)
	writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed: use %s", r.Method, method))
	return false
}

func (s *Server) ready(w http.ResponseWriter) {
	if s.backend.Load() == nil || s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) meta(w http.ResponseWriter) {
	b := s.backend.Load()
	if b == nil {
		unavailable(w, "models are loading")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b.meta)
}

// vectorizeRequest is the body Weaviate's multi2vec-clip client sends.
type vectorizeRequest struct {
	Texts  []string
	Images []string
}

// vectorizeBody is vectorizeRequest as decoded, with its nulls kept apart:
// encoding/json would turn a null body into an empty request and a null
// item into "", where the Python container refuses both (422). A null
// field stands for an absent one, as it always has here.
type vectorizeBody struct {
	Texts  []*string `json:"texts"`
	Images []*string `json:"images"`
}

// apiError is a failed request: its status, the message Weaviate shows its
// user, and the metrics kind.
type apiError struct {
	status int
	msg    string
	kind   string
}

func (e *apiError) Error() string { return e.msg }

func (s *Server) vectorize(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var nTexts, nImages int
	err := s.doVectorize(w, r, &nTexts, &nImages)
	attrs := []any{"texts", nTexts, "images", nImages, "duration", time.Since(start)}
	if err == nil {
		s.log.Debug("vectorized", attrs...)
		return
	}
	s.metrics.errors.WithLabelValues(err.kind).Inc()
	level := slog.LevelInfo
	if err.status >= 500 {
		level = slog.LevelError
	}
	if err.kind == "canceled" {
		level = slog.LevelDebug
	}
	s.log.Log(r.Context(), level, "vectorize failed", append(attrs, "status", err.status, "kind", err.kind, "error", err.msg)...)
	switch err.status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="mclip"`)
	}
	writeError(w, err.status, err.msg)
}

func (s *Server) doVectorize(w http.ResponseWriter, r *http.Request, nTexts, nImages *int) *apiError {
	if !s.authorized(r) {
		return &apiError{http.StatusUnauthorized, "missing or wrong API token", "unauthorized"}
	}
	b := s.backend.Load()
	if b == nil {
		return &apiError{http.StatusServiceUnavailable, "models are loading", "unavailable"}
	}
	if r.ContentLength > s.opts.MaxBodyBytes {
		return s.tooLarge()
	}
	bodyLen := r.ContentLength
	if bodyLen < 0 { // unknown until read: charged as the largest allowed
		bodyLen = s.opts.MaxBodyBytes
	}
	held := worstCharge(bodyLen, s.opts.MaxTexts+s.opts.MaxImages)
	if aerr := s.admit(r.Context(), held); aerr != nil {
		return aerr
	}
	defer func() { s.budget.release(held) }()
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()

	s.reading.Add(1)
	doneReading := sync.OnceFunc(func() {
		s.reading.Add(-1)
		b.text.signal()
		b.image.signal()
	})
	defer doneReading()
	req, bodyRead, aerr := s.decode(w, r)
	if aerr != nil {
		return aerr
	}
	*nTexts, *nImages = len(req.Texts), len(req.Images)
	if len(req.Texts) > s.opts.MaxTexts {
		return &apiError{http.StatusRequestEntityTooLarge,
			fmt.Sprintf("%d texts in one request: the limit is %d", len(req.Texts), s.opts.MaxTexts), "too_large"}
	}
	if len(req.Images) > s.opts.MaxImages {
		return &apiError{http.StatusRequestEntityTooLarge,
			fmt.Sprintf("%d images in one request: the limit is %d", len(req.Images), s.opts.MaxImages), "too_large"}
	}
	// The body is decoded: keep only the charge of what the request holds
	// from now on, and let waiting requests use the rest.
	if exact := exactCharge(bodyRead, req); exact < held {
		s.budget.release(held - exact)
		held = exact
	}

	// Queue both modalities before leaving the readers' count, so that a
	// batcher waiting for this request finds its items.
	ctx := r.Context()
	textJob, err := b.text.enqueue(ctx, req.Texts)
	var imageJob *job
	if err == nil {
		if imageJob, err = b.image.enqueue(ctx, req.Images); err != nil {
			b.text.drop(textJob)
		}
	}
	doneReading()
	if err != nil {
		return submitError(ctx, err)
	}
	var (
		textVecs, imageVecs [][]float32
		textErrs, imageErrs []error
		textErr, imageErr   error
		wg                  sync.WaitGroup
	)
	wg.Go(func() { textVecs, textErrs, textErr = b.text.wait(ctx, textJob) })
	imageVecs, imageErrs, imageErr = b.image.wait(ctx, imageJob)
	wg.Wait()
	if err := errors.Join(textErr, imageErr); err != nil {
		return submitError(ctx, err)
	}
	if msg, internal := itemErrors(textErrs, imageErrs); internal {
		s.log.Error("encoder failed", "errors", errors.Join(append(append([]error(nil), textErrs...), imageErrs...)...))
		return &apiError{http.StatusInternalServerError, msg, "internal"}
	} else if msg != "" {
		return &apiError{http.StatusBadRequest, msg, "input"}
	}
	body, err := appendResponse(make([]byte, 0, 64+(len(textVecs)+len(imageVecs))*512*12), textVecs, imageVecs)
	if err != nil {
		return &apiError{http.StatusInternalServerError, "internal error: " + err.Error(), "encoder_output"}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
	return nil
}

// admit charges n bytes to the memory budget, waiting for room; the error
// says why the request cannot wait longer.
func (s *Server) admit(ctx context.Context, n int64) *apiError {
	err := s.budget.acquire(ctx, s.waitCtx, n)
	var timeout *errQueueTimeout
	switch {
	case err == nil:
		return nil
	case errors.As(err, &timeout):
		return &apiError{http.StatusTooManyRequests, fmt.Sprintf(
			"server busy: %v; retry later, or raise the budget (mclip serve --request-memory, %s) or the wait (--queue-timeout, %s)",
			timeout, config.EnvRequestMemory, config.EnvQueueTimeout), "saturated"}
	case ctx.Err() != nil:
		return &apiError{http.StatusServiceUnavailable, "request cancelled: " + context.Cause(ctx).Error(), "canceled"}
	default: // the server began to drain
		return &apiError{http.StatusServiceUnavailable, "server is shutting down", "unavailable"}
	}
}

// submitError maps a batcher error to a response.
func submitError(ctx context.Context, err error) *apiError {
	switch {
	case errors.Is(err, errClosed):
		return &apiError{http.StatusServiceUnavailable, "server is shutting down", "unavailable"}
	case ctx.Err() != nil:
		return &apiError{http.StatusServiceUnavailable, "request cancelled: " + context.Cause(ctx).Error(), "canceled"}
	default:
		return &apiError{http.StatusInternalServerError, "internal error", "internal"}
	}
}

// itemErrors names the failed items ("texts[2]: ...; images[0]: ...") and
// tells whether one failed through the server's fault (itemerror.Internal,
// or a model call cancelled when a drain timed out) rather than its
// input's. An item's place in the model call mixes requests, so the
// message shows its cause (itemerror.Cause) under the request's own index.
func itemErrors(textErrs, imageErrs []error) (msg string, internal bool) {
	var parts []string
	total := 0
	add := func(field string, errs []error) {
		for i, err := range errs {
			if err == nil {
				continue
			}
			msg := itemerror.Cause(err).Error()
			internal = internal || itemerror.IsInternal(err) ||
				errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
			total++
			if len(parts) < maxItemErrors {
				parts = append(parts, fmt.Sprintf("%s[%d]: %s", field, i, msg))
			}
		}
	}
	add("texts", textErrs)
	add("images", imageErrs)
	if total > len(parts) {
		parts = append(parts, fmt.Sprintf("and %d more", total-len(parts)))
	}
	return strings.Join(parts, "; "), internal
}

// tooLarge is the answer to a body over MaxBodyBytes.
func (s *Server) tooLarge() *apiError {
	return &apiError{http.StatusRequestEntityTooLarge,
		fmt.Sprintf("request body exceeds the limit of %d bytes", s.opts.MaxBodyBytes), "too_large"}
}

// decode reads the request body, bounded by MaxBodyBytes, and returns it
// with the number of bytes read.
func (s *Server) decode(w http.ResponseWriter, r *http.Request) (vectorizeRequest, int64, *apiError) {
	counter := &countingReader{r: http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)}
	req, aerr := s.decodeFrom(r.Context(), counter)
	return req, counter.n, aerr
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// decodeFrom decodes a body read from body.
func (s *Server) decodeFrom(ctx context.Context, body io.Reader) (vectorizeRequest, *apiError) {
	var req vectorizeRequest
	decoded := new(vectorizeBody)
	dec := json.NewDecoder(body)
	err := dec.Decode(&decoded)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errTrailing
		}
	}
	bad := func(msg string) *apiError { return &apiError{http.StatusBadRequest, msg, "bad_request"} }
	if err == nil {
		if decoded == nil {
			return req, bad(`the body must be a JSON object {"texts": [...], "images": [...]}, not null`)
		}
		var aerr *apiError
		if req.Texts, aerr = nonNullStrings("texts", decoded.Texts, bad); aerr != nil {
			return req, aerr
		}
		if req.Images, aerr = nonNullStrings("images", decoded.Images, bad); aerr != nil {
			return req, aerr
		}
		return req, nil
	}
	var (
		maxErr    *http.MaxBytesError
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &maxErr):
		return req, s.tooLarge()
	case errors.Is(err, io.EOF):
		return req, bad(`empty request body: want {"texts": [...], "images": [...]}`)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return req, bad("malformed JSON: the body ends early")
	case errors.As(err, &syntaxErr):
		return req, bad(fmt.Sprintf("malformed JSON at byte %d: %v", syntaxErr.Offset, syntaxErr))
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return req, bad(fmt.Sprintf(`the body must be a JSON object {"texts": [...], "images": [...]}, not a JSON %s`, typeErr.Value))
		}
		field, _, _ := strings.Cut(typeErr.Field, ".")
		return req, bad(fmt.Sprintf("%q must be an array of strings: found a JSON %s", field, typeErr.Value))
	case errors.Is(err, errTrailing):
		return req, bad("malformed JSON: data after the object")
	default:
		if ctxErr := ctx.Err(); ctxErr != nil {
			return req, &apiError{http.StatusServiceUnavailable, "request cancelled", "canceled"}
		}
		return req, bad("cannot read the request body: " + err.Error())
	}
}

var errTrailing = errors.New("data after the JSON object")

// nonNullStrings is a decoded field's strings, or an error naming the
// first null item.
func nonNullStrings(field string, list []*string, bad func(string) *apiError) ([]string, *apiError) {
	if len(list) == 0 {
		return nil, nil
	}
	out := make([]string, len(list))
	for i, p := range list {
		if p == nil {
			return nil, bad(fmt.Sprintf("%s[%d]: null: want a string", field, i))
		}
		out[i] = *p
	}
	return out, nil
}

// authorized checks the bearer token or basic-auth password, if one is set.
func (s *Server) authorized(r *http.Request) bool {
	if s.tokenHash == nil {
		return true
	}
	var got string
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		got = strings.TrimSpace(h[7:])
	} else if _, pass, ok := r.BasicAuth(); ok {
		got = pass
	} else {
		return false
	}
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], s.tokenHash[:]) == 1
}

// appendResponse writes {"textVectors":[...],"imageVectors":[...]}, with []
// for an absent modality as the container does. A NaN or infinite value
// is an error (JSON cannot carry it).
func appendResponse(b []byte, text, image [][]float32) ([]byte, error) {
	var err error
	b = append(b, `{"textVectors":`...)
	if b, err = appendVectors(b, text); err != nil {
		return nil, fmt.Errorf("text vector: %w", err)
	}
	b = append(b, `,"imageVectors":`...)
	if b, err = appendVectors(b, image); err != nil {
		return nil, fmt.Errorf("image vector: %w", err)
	}
	return append(b, '}'), nil
}

func appendVectors(b []byte, vecs [][]float32) ([]byte, error) {
	b = append(b, '[')
	for i, v := range vecs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for k, f := range v {
			if k > 0 {
				b = append(b, ',')
			}
			if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
				return nil, fmt.Errorf("item %d has a non-finite value at %d", i, k)
			}
			b = strconv.AppendFloat(b, float64(f), 'g', -1, 32)
		}
		b = append(b, ']')
	}
	return append(b, ']'), nil
}

func unavailable(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", "1")
	writeError(w, http.StatusServiceUnavailable, msg)
}

// writeError writes {"error": msg}, the shape Weaviate's client reads.
func writeError(w http.ResponseWriter, status int, msg string) {
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// statusRecorder remembers the status code written.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	return r.ResponseWriter.Write(p)
}

func (r *statusRecorder) code() int {
	if !r.wrote {
		return http.StatusOK
	}
	return r.status
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
