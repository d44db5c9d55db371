package modelstore

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress reports one download at a time: a redrawn bar on a terminal,
// plain log lines otherwise.
type progress interface {
	start(name string, total, done int64)
	add(n int64)
	finish(err error)
}

// newProgress picks the bar when w is a terminal.
func newProgress(w io.Writer) progress {
	if w == nil {
		w = io.Discard
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		width, _, err := term.GetSize(int(f.Fd()))
		if err != nil || width < 40 {
			width = 80
		}
		return &bar{w: w, width: width, now: time.Now}
	}
	return &lines{w: w, now: time.Now, every: 10 * time.Second}
}

// meter tracks bytes and rate for both reporters.
type meter struct {
	name         string
	total, done  int64
	resumed      int64
	began, shown time.Time
}

func (m *meter) rate(now time.Time) float64 {
	s := now.Sub(m.began).Seconds()
	if s <= 0 {
		return 0
	}
	return float64(m.done-m.resumed) / s
}

func (m *meter) eta(now time.Time) string {
	r := m.rate(now)
	if r <= 0 || m.total <= 0 {
		return "--"
	}
	return (time.Duration(float64(m.total-m.done)/r) * time.Second).Round(time.Second).String()
}

// bar redraws one line with \r at most every 100ms.
type bar struct {
	mu    sync.Mutex
	w     io.Writer
	width int
	now   func() time.Time
	m     meter
}

func (b *bar) start(name string, total, done int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m = meter{name: name, total: total, done: done, resumed: done, began: b.now()}
	b.draw(true)
}

func (b *bar) add(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m.done += n
	b.draw(false)
}

func (b *bar) finish(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.draw(true)
	if err != nil {
		fmt.Fprintf(b.w, "  failed\n")
		return
	}
	fmt.Fprintln(b.w)
}

func (b *bar) draw(force bool) {
	now := b.now()
	if !force && now.Sub(b.m.shown) < 100*time.Millisecond {
		return
	}
	b.m.shown = now
	stats := fmt.Sprintf(" %s/%s %s/s ETA %s", humanBytes(b.m.done), humanBytes(b.m.total),
		humanBytes(int64(b.m.rate(now))), b.m.eta(now))
	name := b.m.name
	cells := b.width - len(name) - len(stats) - 4
	if cells < 10 {
		cells = 10
	}
	filled := cells
	if b.m.total > 0 {
		filled = int(int64(cells) * min(b.m.done, b.m.total) / b.m.total)
	}
	fmt.Fprintf(b.w, "\r%s [%s%s]%s\x1b[K", name, strings.Repeat("=", filled), strings.Repeat(" ", cells-filled), stats)
}

// lines logs the start, a line every `every`, and the end of a download.
type lines struct {
	w     io.Writer
	now   func() time.Time
	every time.Duration
	m     meter
}

func (l *lines) start(name string, total, done int64) {
	l.m = meter{name: name, total: total, done: done, resumed: done, began: l.now()}
	l.m.shown = l.m.began
	if done > 0 {
		fmt.Fprintf(l.w, "downloading %s (%s), resuming at %s\n", name, humanBytes(total), humanBytes(done))
		return
	}
	fmt.Fprintf(l.w, "downloading %s (%s)\n", name, humanBytes(total))
}

func (l *lines) add(n int64) {
	l.m.done += n
	if now := l.now(); now.Sub(l.m.shown) >= l.every && l.m.done < l.m.total {
		l.m.shown = now
		fmt.Fprintf(l.w, "  %s: %s/%s, %s/s, ETA %s\n", l.m.name, humanBytes(l.m.done), humanBytes(l.m.total),
			humanBytes(int64(l.m.rate(now))), l.m.eta(now))
	}
}

func (l *lines) finish(err error) {
	if err != nil {
		fmt.Fprintf(l.w, "  %s: failed after %s\n", l.m.name, humanBytes(l.m.done))
		return
	}
	now := l.now()
	fmt.Fprintf(l.w, "  %s: done, %s in %s (%s/s)\n", l.m.name, humanBytes(l.m.done),
		now.Sub(l.m.began).Round(time.Millisecond), humanBytes(int64(l.m.rate(now))))
}

// progressWriter counts the bytes written through it.
type progressWriter struct{ p progress }

func (w progressWriter) Write(b []byte) (int, error) {
	w.p.add(int64(len(b)))
	return len(b), nil
}

func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
