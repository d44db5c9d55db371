package inferenceapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/mclip-go/mclip/vectorizer/itemerror"
)

// errClosed reports that the batcher is shutting down.
var errClosed = errors.New("server is shutting down")

// errEncoderPanic is the item error of every item of a model call that
// panicked; the panic itself goes to the log only.
var errEncoderPanic = &itemerror.Internal{Err: errors.New("internal error in the encoder")}

// errEncoderFault replaces an item error that is the encoder's fault
// (itemerror.Internal): its text may name files, and the caller can do
// nothing about it; the log has it.
var errEncoderFault = &itemerror.Internal{Err: errors.New("internal error in the encoder (details in the server log)")}

// encodeFunc is one model call over a batch: one vector and one error slot
// per item (errs may be nil when every item succeeded).
type encodeFunc func(ctx context.Context, items []string) (vecs [][]float32, errs []error)

// hotWindow is how long after a model call that served several requests the
// batcher still expects concurrent traffic and lingers to gather a batch. A
// request after a quiet spell is dispatched at once.
const hotWindow = 50 * time.Millisecond

// batcher groups the items of concurrent requests of one modality into model
// calls of at most maxBatch items. One worker runs the calls one after
// another: what arrives while the model is busy forms the next batch. When
// the encoder is idle an item is dispatched at once, unless more requests
// are on their way: other requests are still being read (upstream), or the
// previous call served several requests less than hotWindow ago. Then the
// worker waits up to maxWait (from the later of the oldest item's arrival
// and the end of that call) for them (for as many requests as that call
// served), so that a bulk import keeps running at batch size instead of
// alternating a batch of one with a batch of the rest. A lone request never
// waits.
type batcher struct {
	modality string
	encode   encodeFunc
	maxBatch int
	maxWait  time.Duration
	// perRequest keeps each model call to one request's items (no
	// cross-request batching: the container's behaviour).
	perRequest bool
	// upstream counts the requests admitted but not yet queued (their
	// bodies are being read); the server signals the batcher when it drops.
	upstream func() int64
	metrics  *metrics
	log      *slog.Logger
	ctx      context.Context // passed to the encoder; cancelled on abort

	wake chan struct{}
	done chan struct{}

	mu       sync.Mutex
	queue    []*job // jobs with items not yet handed to the model
	queued   int    // items in queue not yet handed out
	closed   bool
	lastReqs int       // requests served by the previous call
	lastEnd  time.Time // when the previous call finished
}

// job is the items of one request.
type job struct {
	ctx      context.Context
	items    []string
	vecs     [][]float32
	errs     []error
	enqueued time.Time
	done     chan struct{}

	// guarded by batcher.mu
	next      int  // next item to hand out
	pending   int  // items not finished
	cancelled bool // the request went away; its queued items were dropped
}

type batcherConfig struct {
	modality   string
	maxBatch   int
	maxWait    time.Duration
	perRequest bool
}

func newBatcher(ctx context.Context, cfg batcherConfig, encode encodeFunc, upstream func() int64, m *metrics, log *slog.Logger) *batcher {
	b := &batcher{
		modality:   cfg.modality,
		encode:     encode,
		maxBatch:   max(cfg.maxBatch, 1),
		maxWait:    max(cfg.maxWait, 0),
		perRequest: cfg.perRequest,
		upstream:   upstream,
		metrics:    m,
		log:        log.With("modality", cfg.modality),
		ctx:        ctx,
		wake:       make(chan struct{}, 1),
		done:       make(chan struct{}),
	}
	go b.loop()
	return b
}

// enqueue queues items as one job; nil for no items. The error is
// errClosed. The job's items leave the queue on wait's context end, or
// through drop. The queue has no bound of its own: the server's memory
// budget bounds the requests that reach it.
func (b *batcher) enqueue(ctx context.Context, items []string) (*job, error) {
	if len(items) == 0 {
		return nil, nil
	}
	j := &job{
		ctx:      ctx,
		items:    items,
		vecs:     make([][]float32, len(items)),
		errs:     make([]error, len(items)),
		enqueued: time.Now(),
		done:     make(chan struct{}),
		pending:  len(items),
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, errClosed
	}
	b.queue = append(b.queue, j)
	b.queued += len(items)
	b.metrics.queuedItems.WithLabelValues(b.modality).Add(float64(len(items)))
	b.mu.Unlock()
	b.signal()
	return j, nil
}

// wait returns the job's vectors and item errors, or ctx's error after
// dropping the job's queued items.
func (b *batcher) wait(ctx context.Context, j *job) ([][]float32, []error, error) {
	if j == nil {
		return [][]float32{}, nil, nil
	}
	select {
	case <-j.done:
		return j.vecs, j.errs, nil
	case <-ctx.Done():
		b.drop(j)
		return nil, nil, ctx.Err()
	}
}

// drop removes the job's items not yet handed to the model.
func (b *batcher) drop(j *job) {
	if j == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dropLocked(j)
}

// dropLocked removes the items of j not yet handed out from the queue.
func (b *batcher) dropLocked(j *job) {
	if j.cancelled {
		return
	}
	j.cancelled = true
	left := len(j.items) - j.next
	if left == 0 {
		return
	}
	for i, q := range b.queue {
		if q == j {
			b.queue = append(b.queue[:i], b.queue[i+1:]...)
			break
		}
	}
	j.next = len(j.items)
	j.pending -= left
	b.queued -= left
	b.metrics.queuedItems.WithLabelValues(b.modality).Sub(float64(left))
	b.metrics.droppedItems.WithLabelValues(b.modality).Add(float64(left))
}

func (b *batcher) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// close stops accepting items; the worker finishes what is queued and exits.
func (b *batcher) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.signal()
	<-b.done
}

// slot is one item of a batch.
type slot struct {
	j *job
	i int
}

func (b *batcher) loop() {
	defer close(b.done)
	for {
		batch, ok := b.collect()
		if !ok {
			return
		}
		b.run(batch)
	}
}

// collect waits for items and takes the next batch.
func (b *batcher) collect() ([]slot, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.queued == 0 {
		if b.closed {
			return nil, false
		}
		b.waitLocked(nil)
	}
	if b.maxWait > 0 && !b.perRequest && !b.closed {
		// Wait only for the requests expected now: those being read at
		// this moment, or as many as the previous call served while
		// traffic is hot. Requests arriving during the wait do not extend
		// it, so that a steady stream of clients cannot hold every call
		// for the whole maxWait.
		hot := b.hotLocked()
		target := len(b.queue) + int(b.upstream())
		if hot {
			target = max(target, b.lastReqs)
		}
		// From the later of the oldest item's arrival and the end of the
		// previous call: an item that queued during that call would
		// otherwise leave alone just before the call's cohort returns.
		start := b.queue[0].enqueued
		if b.lastEnd.After(start) {
			start = b.lastEnd
		}
		deadline := start.Add(b.maxWait)
		for b.queued > 0 && b.queued < b.maxBatch && !b.closed && len(b.queue) < target && (hot || b.upstream() > 0) {
			wait := time.Until(deadline)
			if wait <= 0 {
				break
			}
			t := time.NewTimer(wait)
			b.waitLocked(t.C)
			t.Stop()
		}
		if b.queued == 0 { // everything queued was cancelled meanwhile
			return nil, true
		}
	}
	return b.takeLocked(), true
}

// hotLocked reports whether the previous call served several requests and
// ended less than hotWindow ago.
func (b *batcher) hotLocked() bool {
	return b.lastReqs > 1 && time.Since(b.lastEnd) < hotWindow
}

// waitLocked releases the lock until a wake-up or timer fires.
func (b *batcher) waitLocked(timer <-chan time.Time) {
	b.mu.Unlock()
	select {
	case <-b.wake:
	case <-timer:
	}
	b.mu.Lock()
}

// takeLocked hands out up to maxBatch items in arrival order, dropping the
// items of requests whose context has ended.
func (b *batcher) takeLocked() []slot {
	batch := make([]slot, 0, min(b.queued, b.maxBatch))
	now := time.Now()
	for len(b.queue) > 0 && len(batch) < b.maxBatch {
		j := b.queue[0]
		if j.ctx.Err() != nil {
			b.dropLocked(j) // removes it from the queue
			continue
		}
		if j.next == 0 {
			b.metrics.queueWait.WithLabelValues(b.modality).Observe(now.Sub(j.enqueued).Seconds())
		}
		n := min(len(j.items)-j.next, b.maxBatch-len(batch))
		for i := j.next; i < j.next+n; i++ {
			batch = append(batch, slot{j, i})
		}
		j.next += n
		b.queued -= n
		if j.next == len(j.items) {
			b.queue = b.queue[1:]
		}
		if b.perRequest {
			break
		}
	}
	if len(b.queue) == 0 {
		b.queue = nil // let the backing array go
	}
	b.metrics.queuedItems.WithLabelValues(b.modality).Sub(float64(len(batch)))
	return batch
}

// run makes one model call and hands each item its result.
func (b *batcher) run(batch []slot) {
	if len(batch) == 0 {
		return
	}
	items := make([]string, len(batch))
	reqs := 0
	var prev *job
	for k, s := range batch {
		items[k] = s.j.items[s.i]
		if s.j != prev {
			reqs++
			prev = s.j
		}
	}
	start := time.Now()
	vecs, errs := b.call(items)
	elapsed := time.Since(start)
	b.metrics.modelSeconds.WithLabelValues(b.modality).Observe(elapsed.Seconds())
	b.metrics.batchItems.WithLabelValues(b.modality).Observe(float64(len(batch)))
	b.metrics.batchRequests.WithLabelValues(b.modality).Observe(float64(reqs))
	b.log.Debug("model call", "items", len(batch), "requests", reqs, "duration", elapsed)

	b.mu.Lock()
	defer b.mu.Unlock()
	for k, s := range batch {
		if k < len(errs) && errs[k] != nil {
			s.j.errs[s.i] = errs[k]
		} else {
			s.j.vecs[s.i] = vecs[k]
		}
		s.j.pending--
		if s.j.pending == 0 && !s.j.cancelled {
			close(s.j.done)
		}
	}
	b.lastReqs = reqs
	b.lastEnd = time.Now()
}

// call runs the encoder, turning a panic or a broken result into an error
// for every item.
func (b *batcher) call(items []string) (vecs [][]float32, errs []error) {
	defer func() {
		if p := recover(); p != nil {
			b.log.Error("encoder panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			b.metrics.errors.WithLabelValues("encoder_panic").Inc()
			vecs, errs = nil, fill(len(items), errEncoderPanic)
		}
	}()
	vecs, errs = b.encode(b.ctx, items)
	if len(vecs) != len(items) || (errs != nil && len(errs) != len(items)) {
		b.log.Error("encoder broke its contract", "items", len(items), "vectors", len(vecs), "errors", len(errs))
		b.metrics.errors.WithLabelValues("encoder_contract").Inc()
		return nil, fill(len(items), &itemerror.Internal{Err: fmt.Errorf("internal error: the encoder returned %d vectors for %d items", len(vecs), len(items))})
	}
	for k := range items {
		if errs != nil && errs[k] != nil && itemerror.IsInternal(errs[k]) {
			b.log.Error("encoder failed on an item", "item", k, "error", errs[k].Error())
			errs[k] = errEncoderFault
			continue
		}
		if (errs == nil || errs[k] == nil) && vecs[k] == nil {
			if errs == nil {
				errs = make([]error, len(items))
			}
			errs[k] = &itemerror.Internal{Err: errors.New("internal error: the encoder returned no vector")}
		}
	}
	return vecs, errs
}

func fill(n int, err error) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return errs
}
