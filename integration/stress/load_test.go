package stress

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/weaviate/weaviate-go-client/v5/weaviate"
	wvgrpc "github.com/weaviate/weaviate-go-client/v5/weaviate/grpc"
	wvmodels "github.com/weaviate/weaviate/entities/models"

	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/testfixture/testimage"
)

// phrases are the texts of the load: many languages and scripts.
var phrases = []string{
	"a dog swimming in the water", "der Hund schwimmt im Wasser", "le chat dort dans la maison",
	"el perro come en la casa", "собака плавает в воде", "ο σκύλος κολυμπά στο νερό",
	"الكلب يسبح في الماء", "कुत्ता पानी में तैरता है", "狗在水里游泳", "犬が水の中で泳いでいる",
	"개가 물에서 수영한다", "הכלב שוחה במים", "köpek suda yüzüyor", "pies pływa w wodzie",
	"con chó đang bơi dưới nước", "หมาว่ายน้ำ",
}

// loadOps are the operations of the mixed traffic, with their weights.
var loadOps = []struct {
	name   string
	weight int
}{
	{"batch import (20 objects)", 2},
	{"nearText", 3},
	{"nearImage", 2},
	{"hybrid", 2},
}

// loadPhase is one concurrency's run.
type loadPhase struct {
	concurrency int
	duration    time.Duration
	queriesOnly bool
	latencies   map[string][]time.Duration
	errors      []string
	objects     int
	// from and to bound the phase, window opens its flatness window, in
	// time since the start of the run; rss is the server's memory then.
	from, window, to time.Duration
	rss              rssWindow
}

// loadObject is an imported object: what its vector must be made of.
type loadObject struct {
	title string
	image int
}

// phaseSpec is one phase of the load: its concurrency and length, whether
// it only queries (no imports, so no data growth), and how long the
// memory may warm up in it before its flatness window opens.
type phaseSpec struct {
	concurrency int
	duration    time.Duration
	queriesOnly bool
	warmUp      time.Duration
}

// leakRepeats is how many identical queries-only phases end the load: the
// leak check compares them.
const leakRepeats = 4

// loadPlan is the phases: mixed traffic at concurrency 1, 4 and 16, then
// leakRepeats identical phases of queries alone at 16, whose memory must
// not keep growing from one to the next.
func loadPlan() ([]phaseSpec, string) {
	mixed, repeat, form := 2500*time.Millisecond, 2500*time.Millisecond, "short"
	var warmUp time.Duration
	if stressMode() {
		mixed, repeat, form, warmUp = time.Minute, 15*time.Second, "long", 20*time.Second
	}
	plan := []phaseSpec{{1, mixed, false, 0}, {4, mixed, false, 0}, {16, mixed, false, warmUp}}
	for range leakRepeats {
		plan = append(plan, phaseSpec{16, repeat, true, 0})
	}
	return plan, form
}

// TestLoad runs mixed traffic (gRPC batch imports, nearText in many
// languages, nearImage, hybrid) against weaviate-mclip at concurrencies 1,
// 4 and 16, then repeated identical phases of queries alone, and checks
// that every object is stored with the facade's vector, that no request
// failed, and that the server's memory does not keep growing from one
// repeated phase to the next (keepsGrowing). It asserts no absolute memory
// figure: those depend on what else runs on the machine. It prints p50/p99
// per operation and the memory per phase and, with MCLIP_LOAD_REPORT set,
// writes the table there.
func TestLoad(t *testing.T) {
	plan, form := loadPlan()
	m, s, _ := shared(t)
	ctx := context.Background()
	s.createClass(t, map[string]any{
		"class":      "Load",
		"vectorizer": mclipModule,
		"moduleConfig": map[string]any{mclipModule: map[string]any{
			"textFields": []string{"title"}, "imageFields": []string{"image"},
		}},
		"properties": []map[string]any{
			{"name": "title", "dataType": []string{"text"}},
			{"name": "image", "dataType": []string{"blob"}},
		},
	})
	client, err := weaviate.NewClient(weaviate.Config{
		Host: s.HTTPHost(), Scheme: "http",
		GrpcConfig: &wvgrpc.Config{Host: s.GRPCHost()},
		Timeout:    2 * time.Minute,
	})
	require.NoError(t, err)
	pid := s.pid(t)

	images := make([]string, 16)
	for i := range images {
		images[i] = b64(testimage.GradientPNG(300+i, 32+3*i, 48-i))
	}
	var (
		mu      sync.Mutex
		objects = map[string]loadObject{}
	)

	// Memory sampler.
	var samples []rssSample
	start := time.Now()
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
				if st, err := procStatus(pid); err == nil {
					mu.Lock()
					samples = append(samples, rssSample{time.Since(start), float64(st["VmRSS"]) / 1024})
					mu.Unlock()
				}
			}
		}
	}()

	var phases []*loadPhase
	for _, spec := range plan {
		conc := spec.concurrency
		p := &loadPhase{concurrency: conc, duration: spec.duration, queriesOnly: spec.queriesOnly,
			latencies: map[string][]time.Duration{}, from: time.Since(start), window: time.Since(start) + spec.warmUp}
		phases = append(phases, p)
		deadline := time.Now().Add(spec.duration)
		var wg sync.WaitGroup
		for w := range conc {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(conc), uint64(w)))
				for i := 0; time.Now().Before(deadline); i++ {
					op := pickOp(rng, spec.queriesOnly)
					t0 := time.Now()
					n, err := runOp(ctx, s, client, op, rng, images, func(id string, o loadObject) {
						mu.Lock()
						objects[id] = o
						mu.Unlock()
					}, fmt.Sprintf("c%d-w%d-%d", conc, w, i))
					d := time.Since(t0)
					mu.Lock()
					p.latencies[op] = append(p.latencies[op], d)
					p.objects += n
					if err != nil {
						p.errors = append(p.errors, fmt.Sprintf("%s: %v", op, err))
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		p.to = time.Since(start)
		require.True(t, s.ready(), "server not ready after concurrency %d", conc)
	}
	close(stopSampling)
	<-sampled

	// Every object stored, with the facade's vector.
	stored := s.allVectors(t, "Load")
	titles := make([]string, 0, len(objects))
	ids := make([]string, 0, len(objects))
	for id, o := range objects {
		ids = append(ids, id)
		titles = append(titles, o.title)
	}
	textVecs, errs := m.vec.EncodeTexts(ctx, titles)
	for _, e := range errs {
		require.NoError(t, e)
	}
	imageVecs, errs := m.vec.EncodeImagesBase64(ctx, images)
	for _, e := range errs {
		require.NoError(t, e)
	}
	var lost, wrong int
	for i, id := range ids {
		got, ok := stored[id]
		if !ok {
			lost++
			continue
		}
		if vectorDiff(harness.Mean(textVecs[i], imageVecs[objects[id].image]), got) > vectorTolerance {
			wrong++
		}
	}

	// Report.
	var errCount int
	for _, p := range phases {
		errCount += len(p.errors)
		for i, e := range p.errors {
			if i < 5 {
				t.Errorf("concurrency %d: %s", p.concurrency, e)
			}
		}
	}
	for _, p := range phases {
		p.rss = windowOf(samples, p.window, p.to)
	}
	table := loadTable(phases, form, len(objects), lost, wrong, errCount)
	t.Log("\n" + table)
	if path := os.Getenv("MCLIP_LOAD_REPORT"); path != "" {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(table), 0o644))
		t.Logf("wrote %s", path)
	}
	assert.Zero(t, errCount, "failed requests")
	assert.Zero(t, lost, "objects lost")
	assert.Zero(t, wrong, "objects with a wrong vector")
	assert.Len(t, stored, len(objects), "objects stored")
	assert.Positive(t, len(objects))
	// A leak (an image buffer, a goroutine per request) grows the memory
	// in every repeated phase alike; a warm-up (ONNX Runtime's arenas, Go's
	// heap) grows it once, and a busy machine only slows the phases down.
	var repeats [][]float64
	for _, p := range phases {
		if p.queriesOnly {
			repeats = append(repeats, samplesOf(samples, p.from, p.to))
			require.NotEmpty(t, repeats[len(repeats)-1], "no memory sample in a queries-only phase")
		}
	}
	leak, why := keepsGrowing(repeats)
	t.Logf("memory over %d identical queries-only phases: %s", len(repeats), why)
	assert.False(t, leak, "server memory keeps growing from phase to phase: %s", why)
}

// keepsGrowing tells whether the RSS samples (MiB) of repeated identical
// phases show growth that keeps going, and says why. Each phase's level is
// the median of its samples (one spike moves it little). Growth keeps
// going when every phase's level is above the one before, the last rise
// is at least half the first (the rises of a warm-up shrink), and the
// whole rise is above the noise: the widest spread of samples within one
// phase. A linear leak over k phases rises k-1 times the spread of one.
func keepsGrowing(phases [][]float64) (bool, string) {
	if len(phases) < 3 {
		return false, fmt.Sprintf("%d phases: at least 3 are compared", len(phases))
	}
	levels := make([]float64, len(phases))
	var spread float64
	for i, samples := range phases {
		if len(samples) == 0 {
			return false, fmt.Sprintf("phase %d has no samples", i+1)
		}
		s := slices.Sorted(slices.Values(samples))
		levels[i] = s[len(s)/2]
		if len(s)%2 == 0 {
			levels[i] = (s[len(s)/2-1] + s[len(s)/2]) / 2
		}
		spread = max(spread, s[len(s)-1]-s[0])
	}
	var b strings.Builder
	b.WriteString("median RSS per phase")
	for _, l := range levels {
		fmt.Fprintf(&b, " %.0f", l)
	}
	total := levels[len(levels)-1] - levels[0]
	fmt.Fprintf(&b, " MiB; rise %.0f MiB, widest spread within a phase %.0f MiB", total, spread)
	for i := 1; i < len(levels); i++ {
		if levels[i] <= levels[i-1] {
			fmt.Fprintf(&b, "; phase %d is not above phase %d", i+1, i)
			return false, b.String()
		}
	}
	first, last := levels[1]-levels[0], levels[len(levels)-1]-levels[len(levels)-2]
	if last < first/2 {
		fmt.Fprintf(&b, "; the rises shrink (first %.1f, last %.1f MiB): a warm-up", first, last)
		return false, b.String()
	}
	if total <= spread {
		b.WriteString("; the rise is within the noise")
		return false, b.String()
	}
	b.WriteString("; every phase above the last, the rises not shrinking, the rise above the noise")
	return true, b.String()
}

// samplesOf is the RSS of the samples taken from from to to.
func samplesOf(samples []rssSample, from, to time.Duration) []float64 {
	var out []float64
	for _, s := range samples {
		if s.at >= from && s.at <= to {
			out = append(out, s.rss)
		}
	}
	return out
}

// pickOp picks an operation by weight; queriesOnly leaves out the import.
func pickOp(rng *rand.Rand, queriesOnly bool) string {
	ops := loadOps
	if queriesOnly {
		ops = ops[1:]
	}
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	n := rng.IntN(total)
	for _, o := range ops {
		if n < o.weight {
			return o.name
		}
		n -= o.weight
	}
	return ops[0].name
}

// runOp runs one operation; it returns the number of objects imported.
func runOp(ctx context.Context, s *server, client *weaviate.Client, op string, rng *rand.Rand, images []string,
	record func(string, loadObject), tag string,
) (int, error) {
	phrase := phrases[rng.IntN(len(phrases))]
	switch op {
	case loadOps[0].name:
		const n = 20
		objs := make([]*wvmodels.Object, n)
		recs := make([]loadObject, n)
		for i := range objs {
			recs[i] = loadObject{title: fmt.Sprintf("%s %s-%d", phrases[rng.IntN(len(phrases))], tag, i), image: rng.IntN(len(images))}
			objs[i] = &wvmodels.Object{Class: "Load", ID: strfmt.UUID(uuid.NewString()), Properties: map[string]any{
				"title": recs[i].title, "image": images[recs[i].image],
			}}
		}
		resp, err := client.Batch().ObjectsBatcher().WithObjects(objs...).Do(ctx)
		if err != nil {
			return 0, fmt.Errorf("batch: %w", err)
		}
		var failed []string
		for _, r := range resp {
			if r.Result != nil && r.Result.Errors != nil {
				for _, e := range r.Result.Errors.Error {
					failed = append(failed, e.Message)
				}
			}
		}
		if len(failed) > 0 {
			return 0, fmt.Errorf("batch: %d object errors, first: %s", len(failed), failed[0])
		}
		for i, o := range objs {
			record(string(o.ID), recs[i])
		}
		return n, nil
	case loadOps[1].name:
		return 0, s.query(ctx, fmt.Sprintf(`{Get{Load(nearText:{concepts:[%s]}, limit: 5){title _additional{distance}}}}`, gqlString(phrase)))
	case loadOps[2].name:
		return 0, s.query(ctx, fmt.Sprintf(`{Get{Load(nearImage:{image:%s}, limit: 5){title _additional{distance}}}}`, gqlString(images[rng.IntN(len(images))])))
	case loadOps[3].name:
		return 0, s.query(ctx, fmt.Sprintf(`{Get{Load(hybrid:{query:%s, alpha: 0.5}, limit: 5){title}}}`, gqlString(phrase)))
	}
	return 0, fmt.Errorf("unknown operation %q", op)
}

// query runs a GraphQL query and turns GraphQL errors into an error.
func (s *server) query(ctx context.Context, q string) error {
	_, errs, err := s.graphQL(ctx, q)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return fmt.Errorf("graphql: %s", strings.Join(errs, "; "))
	}
	return nil
}

// allVectors pages through a class with the cursor API and returns every
// object's vector by id.
func (s *server) allVectors(t testing.TB, class string) map[string][]float32 {
	t.Helper()
	return s.allVectorsAt(t, class, "")
}

// allVectorsAt is allVectors with extra Get arguments (a consistency
// level).
func (s *server) allVectorsAt(t testing.TB, class, args string) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	after := ""
	for {
		cursor := ""
		if after != "" {
			cursor = fmt.Sprintf(`, after: %q`, after)
		}
		data, errs, err := s.graphQL(context.Background(),
			fmt.Sprintf(`{Get{%s(limit: 500%s%s){_additional{id vector}}}}`, class, cursor, args))
		require.NoError(t, err)
		require.Empty(t, errs)
		var r struct {
			Get map[string][]struct {
				Additional struct {
					ID     string    `json:"id"`
					Vector []float32 `json:"vector"`
				} `json:"_additional"`
			}
		}
		require.NoError(t, json.Unmarshal(data, &r))
		page := r.Get[class]
		for _, o := range page {
			out[o.Additional.ID] = o.Additional.Vector
		}
		if len(page) < 500 {
			return out
		}
		after = page[len(page)-1].Additional.ID
	}
}

// rssSample is the server's RSS in MiB some time into the run.
type rssSample struct {
	at  time.Duration
	rss float64
}

// rssWindow is the server's RSS in MiB over a window: at its start, at its
// end, and the peak.
type rssWindow struct{ start, end, peak float64 }

// windowOf summarizes the samples taken from from to to.
func windowOf(samples []rssSample, from, to time.Duration) rssWindow {
	var w rssWindow
	started := false
	for _, s := range samples {
		if s.at < from || s.at > to {
			continue
		}
		if !started {
			w.start, started = s.rss, true
		}
		w.end = s.rss
		w.peak = max(w.peak, s.rss)
	}
	return w
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

// loadTable is the Markdown report.
func loadTable(phases []*loadPhase, form string, objects, lost, wrong, errCount int) string {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "# weaviate-mclip under mixed load (%s form)\n\n", form)
	fmt.Fprintf(&b, "`go test ./integration/stress -run TestLoad` (MCLIP_STRESS=1 for the long form) on %s, %s, tiny generated models, MCLIP_THREADS=1; generated %s.\n\n",
		host, cpuInfo(), time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	b.WriteString("| concurrency | seconds | operation | requests | p50 ms | p99 ms | max ms | req/s |\n")
	b.WriteString("|---:|---:|---|---:|---:|---:|---:|---:|\n")
	for _, p := range phases {
		label := fmt.Sprint(p.concurrency)
		if p.queriesOnly {
			label += " (queries only)"
		}
		for _, o := range loadOps {
			ds := p.latencies[o.name]
			if len(ds) == 0 {
				continue
			}
			fmt.Fprintf(&b, "| %s | %.1f | %s | %d | %s | %s | %s | %.1f |\n", label, p.duration.Seconds(), o.name, len(ds),
				ms(percentile(ds, 0.5)), ms(percentile(ds, 0.99)), ms(percentile(ds, 1)), float64(len(ds))/p.duration.Seconds())
		}
	}
	fmt.Fprintf(&b, "\nObjects imported: %d; lost: %d; stored with a vector differing from the in-process facade's: %d; failed requests: %d.\n\n", objects, lost, wrong, errCount)
	b.WriteString("Server RSS (/proc/<pid>/status VmRSS), MiB, from the end of each phase's warm-up to its end:\n\n")
	b.WriteString("| concurrency | warm-up s | RSS at start | RSS at end | peak | objects imported in the phase |\n|---:|---:|---:|---:|---:|---:|\n")
	for _, p := range phases {
		label := fmt.Sprint(p.concurrency)
		if p.queriesOnly {
			label += " (queries only)"
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %.0f | %.0f | %d |\n", label, (p.window - p.from).Seconds(), p.rss.start, p.rss.end, p.rss.peak, p.objects)
	}
	return b.String()
}

func cpuInfo() string {
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	n := 0
	model := ""
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, "processor") {
			n++
		}
		if model == "" && strings.HasPrefix(l, "model name") {
			_, model, _ = strings.Cut(l, ": ")
		}
	}
	return fmt.Sprintf("%d × %s", n, strings.TrimSpace(model))
}
func TestKeepsGrowing(t *testing.T) {
	tests := []struct {
		name   string
		phases [][]float64
		leak   bool
		why    string
	}{
		{"flat", [][]float64{{500, 510, 505}, {506, 502, 509}, {503, 508, 501}, {507, 504, 506}}, false, "phase 3 is not above phase 2"},
		{"one-time warm-up", [][]float64{{500, 560, 600}, {610, 615, 620}, {621, 622, 623}, {623, 624, 624}}, false, "the rises shrink"},
		{"a linear leak", [][]float64{{500, 510, 520}, {530, 540, 550}, {560, 570, 580}, {590, 600, 610}}, true, "rise 90 MiB, widest spread within a phase 20 MiB"},
		{"a spike raises the noise above a small leak", [][]float64{{500, 900, 520}, {530, 540, 550}, {560, 570, 580}, {590, 600, 610}}, false, "within the noise"},
		{"a slow leak under noise", [][]float64{{500, 540, 505}, {506, 545, 507}, {508, 541, 509}, {510, 546, 512}}, false, "within the noise"},
		{"falling after the imports", [][]float64{{800, 700, 650}, {652, 655, 650}, {651, 653, 655}, {654, 656, 652}}, false, "not above"},
		{"too few phases", [][]float64{{1}, {2}}, false, "at least 3"},
		{"a phase without samples", [][]float64{{1}, {}, {3}}, false, "phase 2 has no samples"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leak, why := keepsGrowing(tt.phases)
			assert.Equal(t, tt.leak, leak, why)
			assert.Contains(t, why, tt.why)
		})
	}
}
