package inferenceapi

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// What a vectorize request is charged against the memory budget, besides
// its body.
const (
	// requestBytes is a request's own share: its goroutine, its
	// connection's buffers, its headers.
	requestBytes = 16 << 10
	// itemBytes is one item's result: a vector of up to 1024 dimensions
	// as float32 and as JSON in the response.
	itemBytes = 16 << 10
)

// budget bounds the memory that admitted vectorize requests hold. A
// request is charged, before its body is read, the most it may hold
// (worstCharge); once decoded its charge shrinks to what it does hold
// (exactCharge), and it is released when the response is written. A
// request that does not fit waits, first come first served (a large
// request at the head is not overtaken by small ones), for at most the
// queue timeout.
type budget struct {
	sem     *semaphore.Weighted
	limit   int64
	timeout time.Duration
	held    atomic.Int64
	waiting atomic.Int64
	metrics *metrics
}

func newBudget(limit int64, timeout time.Duration, m *metrics) *budget {
	m.memoryLimit.Set(float64(limit))
	return &budget{sem: semaphore.NewWeighted(limit), limit: limit, timeout: timeout, metrics: m}
}

// errQueueTimeout reports that a request waited the whole queue timeout
// for room in the budget.
type errQueueTimeout struct {
	waited        time.Duration
	need, limit   int64
	held, waiting int64
}

func (e *errQueueTimeout) Error() string {
	return fmt.Sprintf("waited %v for %s of the request memory budget of %s (%s held, %d requests waiting)",
		e.waited.Round(time.Millisecond), formatBytes(e.need), formatBytes(e.limit), formatBytes(e.held), e.waiting)
}

// acquire charges n bytes, waiting for room until the queue timeout, ctx's
// end or stop's end. The error is an *errQueueTimeout, or the context
// error of ctx or stop.
func (b *budget) acquire(ctx, stop context.Context, n int64) error {
	if b.sem.TryAcquire(n) {
		b.metrics.admissionWait.Observe(0)
		b.add(n)
		return nil
	}
	start := time.Now()
	b.metrics.waiting.Set(float64(b.waiting.Add(1)))
	wctx, cancel := context.WithTimeoutCause(ctx, b.timeout, errWaitedTooLong)
	defer cancel()
	defer context.AfterFunc(stop, cancel)()
	err := b.sem.Acquire(wctx, n)
	waiting := b.waiting.Add(-1)
	b.metrics.waiting.Set(float64(waiting))
	waited := time.Since(start)
	b.metrics.admissionWait.Observe(waited.Seconds())
	switch {
	case err == nil:
		b.add(n)
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case stop.Err() != nil:
		return stop.Err()
	default:
		return &errQueueTimeout{waited: waited, need: n, limit: b.limit, held: b.held.Load(), waiting: waiting}
	}
}

var errWaitedTooLong = errors.New("queue timeout")

// release returns n charged bytes.
func (b *budget) release(n int64) {
	if n <= 0 {
		return
	}
	b.add(-n)
	b.sem.Release(n)
}

func (b *budget) add(n int64) {
	b.metrics.memoryHeld.Set(float64(b.held.Add(n)))
}

// worstCharge is the most a request with a body of bodyLen bytes can hold:
// the body as read and its decoded strings at once (while it is decoded),
// and the results of as many items as such a body can carry (an item takes
// at least 3 bytes: `"",`) within the item limits.
func worstCharge(bodyLen int64, maxItems int) int64 {
	items := min(bodyLen/3+1, int64(maxItems))
	return requestBytes + 2*bodyLen + items*itemBytes
}

// exactCharge is what a decoded request holds until it is answered: its
// strings (at most the body's bytes), the bytes its images decode to from
// base64 (3/4 of their text: the model call that encodes them holds them),
// and one result per item. It never exceeds worstCharge of the same body.
// Decoded pixels are not charged here: the model calls decode them a few
// at a time whatever the number of requests (see docs/configuration.md).
func exactCharge(bodyRead int64, req vectorizeRequest) int64 {
	var imageBytes int64
	for _, s := range req.Images {
		imageBytes += int64(len(s)) / 4 * 3
	}
	return requestBytes + bodyRead + imageBytes + int64(len(req.Texts)+len(req.Images))*itemBytes
}

// formatBytes writes n in KiB, MiB or GiB.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
