package bench

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/ortlib"
)

// weaviateSection measures import objects/s through Weaviate where the
// binaries are built, against the in-process vectorizer on the same
// objects in the same run.
func (r *runner) weaviateSection() error {
	const section = "Weaviate import"
	native := filepath.Join(r.cfg.RepoRoot, "bin", "weaviate-mclip")
	stock := filepath.Join(r.cfg.RepoRoot, "bin", "weaviate-stock")
	mclip := filepath.Join(r.cfg.RepoRoot, "bin", "mclip")
	var stacks []stack
	switch {
	case r.cfg.Quick:
		r.res.add(section, Row{Metric: "weaviate-mclip import objects/s", Note: "not measured in a quick run"})
	case !exists(native):
		r.res.add(section, Row{Metric: "weaviate-mclip import objects/s", Note: "not measured: bin/weaviate-mclip absent (`make weaviate`)"})
	default:
		stacks = append(stacks, stack{name: "weaviate-mclip", weaviate: native, module: "multi2vec-mclip"})
	}
	switch {
	case r.cfg.Quick:
		r.res.add(section, Row{Metric: "stock Weaviate + `mclip serve` import objects/s", Note: "not measured in a quick run"})
	case !exists(stock) || !exists(mclip):
		r.res.add(section, Row{Metric: "stock Weaviate + `mclip serve` import objects/s", Note: "not measured: bin/weaviate-stock or bin/mclip absent"})
	default:
		stacks = append(stacks, stack{name: "stock Weaviate + mclip serve", weaviate: stock, module: "multi2vec-clip", mclip: mclip})
	}
	// The same multi2vec-clip collection served in-process: what a user
	// with existing multi2vec-clip collections gets by swapping the binary.
	const switched = "weaviate-mclip serving multi2vec-clip (" + config.EnvReplaceClip + "=true)"
	switch {
	case r.cfg.Quick:
		r.res.add(section, Row{Metric: switched + " import objects/s", Note: "not measured in a quick run"})
	case !exists(native):
		r.res.add(section, Row{Metric: switched + " import objects/s", Note: "not measured: bin/weaviate-mclip absent (`make weaviate`)"})
	default:
		stacks = append(stacks, stack{name: switched, weaviate: native, module: "multi2vec-clip",
			env: map[string]string{config.EnvReplaceClip: "true"}})
	}
	if len(stacks) == 0 {
		return nil
	}
	alone := stack{name: "Weaviate alone, vectors supplied by the client", weaviate: stock, module: "none"}
	if !exists(stock) {
		alone.weaviate = native
	}
	return r.weaviateImport(section, stacks, alone)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// stack is one way of running Weaviate with mclip: the native module,
// stock Weaviate's multi2vec-clip calling `mclip serve`, or weaviate-mclip
// serving multi2vec-clip in-process.
type stack struct {
	name, weaviate, module string
	mclip                  string            // `mclip serve` binary, for the stock stack
	env                    map[string]string // more of Weaviate's environment
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Import size: Config.ImportObjects (default weaviateObjects) objects with
// a title and an image each, imported in weaviateChunks consecutive runs
// (the median of their rates is reported), each followed by the in-process
// vectorizer on the first weaviateRef objects of that run (its per-object
// time is the reference: the whole run again would double the section's
// time).
const (
	weaviateObjects = 2000
	weaviateChunks  = 4
	weaviateRef     = 128
)

// importObjects is the number of objects each stack imports per load.
func (r *runner) importObjects() int {
	if r.cfg.ImportObjects > 0 {
		return max(r.cfg.ImportObjects, weaviateChunks)
	}
	return weaviateObjects
}

// importLoad is one kind of object to import: a title and a generated
// photo of one size, distinct of them shared round robin.
type importLoad struct {
	label    string
	w, h     int
	distinct int
	batch    int // objects per /v1/batch/objects request
}

// importLoads are small photos, where Weaviate's and the model's costs
// dominate, and phone photos (12 MP, about 4.8 MB as a quality 90 JPEG),
// where decoding does and every request carries tens of megabytes.
var importLoads = []importLoad{
	{label: "640x480 JPEG", w: 640, h: 480, distinct: 64, batch: 64},
	{label: "12 MP JPEG", w: 4000, h: 3000, distinct: 16, batch: 8},
}

// weaviateImport imports image+text objects over REST batches through
// each stack in turn, against the in-process vectorizer on the same items,
// and through Weaviate alone with the vectors supplied by the client: its
// own cost of storing and indexing the same objects, the ceiling for the
// stacks that vectorize.
func (r *runner) weaviateImport(section string, stacks []stack, alone stack) error {
	enc, err := r.openText(modelstore.VariantFP32, r.sess)
	if err != nil {
		return err
	}
	defer enc.Close()
	venc, err := r.openVision(modelstore.VariantFP32, r.sess)
	if err != nil {
		return err
	}
	defer venc.Close()
	n := r.importObjects()
	texts, meanTokens, err := sentences(enc.Preparer, n, 40)
	if err != nil {
		return err
	}
	for _, load := range importLoads {
		js, err := r.jpegs(load.w, load.h, load.distinct)
		if err != nil {
			return err
		}
		image := func(i int) []byte { return js.Data[i%len(js.Data)] }
		b64 := make([]string, len(js.Data))
		size := 0
		for i, b := range js.Data {
			b64[i] = base64.StdEncoding.EncodeToString(b)
			size += len(b)
		}
		what := fmt.Sprintf("%d objects (title of %.0f tokens + %s, %.1f MB on average)",
			n, meanTokens, load.label, float64(size)/float64(len(js.Data))/1e6)
		objs := make([]map[string]any, n)
		for i, t := range texts {
			objs[i] = map[string]any{"class": "Bench", "properties": map[string]any{"title": t, "image": b64[i%len(b64)]}}
		}
		// The in-process reference vectorizes what Weaviate does: each
		// object's title and image, in batches of 32.
		inProc := func(from, to int) error {
			for i := from; i < to; i += 32 {
				end := min(i+32, to)
				if err := r.encodeTexts(enc, texts[i:end]); err != nil {
					return err
				}
				imgs := make([][]byte, 0, end-i)
				for k := i; k < end; k++ {
					imgs = append(imgs, image(k))
				}
				if err := r.encodeImages(venc, imgs); err != nil {
					return err
				}
			}
			return nil
		}
		// Weaviate alone: the same objects with a vector each (random
		// unit vectors: storing and indexing does not depend on what
		// they mean).
		supplied := make([]map[string]any, len(objs))
		for i, o := range objs {
			supplied[i] = map[string]any{"class": o["class"], "properties": o["properties"], "vector": unitVector(512, uint64(i))}
		}
		aloneRates, _, _, err := r.importInto(alone, load, supplied, nil)
		if err != nil {
			return err
		}
		aloneRate := median(aloneRates)
		r.res.add(section, Row{Metric: fmt.Sprintf("%s, %s", alone.name, what), Value: aloneRate, Unit: "objects/s", Runs: len(aloneRates),
			Note: fmt.Sprintf("Weaviate's own cost of storing and indexing these objects: the ceiling of the rows below; %d per request", load.batch)})
		for _, st := range stacks {
			rates, rat, ready, err := r.importInto(st, load, objs, inProc)
			if err != nil {
				return err
			}
			r.res.add(section, Row{Metric: fmt.Sprintf("%s import, %s", st.name, what),
				Value: median(rates), Unit: "objects/s", Ratio: median(rat), Ref: fmt.Sprintf("in-process vectorizer, batches of 32, on the first %d objects of each run", min(weaviateRef, n/weaviateChunks)), Runs: len(rates),
				Note: fmt.Sprintf("REST /v1/batch/objects, %d per request, fp32; %d runs of %d objects, all stored; ready in %.1f s",
					load.batch, len(rates), n/weaviateChunks, ready.Seconds())})
			r.res.add(section, Row{Metric: fmt.Sprintf("%s import, %s: against Weaviate alone", st.name, load.label),
				Value: median(rates) / aloneRate, Unit: "x", Ratio: median(rates) / aloneRate, Ref: "Weaviate alone, vectors supplied (same objects, same run)", Runs: len(rates)})
		}
	}
	return nil
}

// importInto starts st, creates the Bench class and imports objs in
// weaviateChunks runs, each followed by ref (when not nil) on the first
// weaviateRef objects of the run; it returns each run's objects/s and its
// ratio to ref's per-object rate.
func (r *runner) importInto(st stack, load importLoad, objs []map[string]any, ref func(from, to int) error) (rates, ratios []float64, ready time.Duration, err error) {
	r.logf("weaviate: %s, %s", st.name, load.label)
	host, ready, stop, err := r.startStack(st)
	if err != nil {
		return nil, nil, 0, err
	}
	defer func() {
		logs := stop()
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, logs)
		}
	}()
	class := map[string]any{
		"class": "Bench", "vectorizer": st.module,
		"properties": []map[string]any{{"name": "title", "dataType": []string{"text"}}, {"name": "image", "dataType": []string{"blob"}}},
	}
	if st.module != "none" {
		class["moduleConfig"] = map[string]any{st.module: map[string]any{"textFields": []string{"title"}, "imageFields": []string{"image"}}}
	}
	if err := postJSON("http://"+host+"/v1/schema", class, nil); err != nil {
		return nil, nil, 0, fmt.Errorf("%s: create class: %w", st.name, err)
	}
	n := len(objs)
	chunk := n / weaviateChunks
	refN := min(weaviateRef, chunk)
	for c := 0; c+chunk <= n; c += chunk {
		t := time.Now()
		for i := c; i < c+chunk; i += load.batch {
			if err := importBatch(host, objs[i:min(i+load.batch, c+chunk)]); err != nil {
				return nil, nil, 0, fmt.Errorf("%s: %w", st.name, err)
			}
		}
		d := time.Since(t)
		rates = append(rates, float64(chunk)/d.Seconds())
		if ref != nil {
			t = time.Now()
			if err := ref(c, c+refN); err != nil {
				return nil, nil, 0, err
			}
			ratios = append(ratios, (time.Since(t).Seconds()/float64(refN))/(d.Seconds()/float64(chunk)))
		}
		r.logf("weaviate: %s: %d objects", st.name, c+chunk)
	}
	stored, err := countObjects(host, "Bench")
	if err != nil {
		return nil, nil, 0, fmt.Errorf("%s: %w", st.name, err)
	}
	if want := chunk * weaviateChunks; stored != want {
		return nil, nil, 0, fmt.Errorf("%s: %d objects stored, want %d", st.name, stored, want)
	}
	return rates, ratios, ready, nil
}

// unitVector is a pseudo-random unit vector of n dimensions from seed.
func unitVector(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 11))
	v := make([]float32, n)
	var sum float64
	for i := range v {
		x := rng.NormFloat64()
		v[i], sum = float32(x), sum+x*x
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(sum))
	}
	return v
}

func countObjects(host, class string) (int, error) {
	var out struct {
		Data map[string]map[string][]struct {
			Meta struct {
				Count int `json:"count"`
			} `json:"meta"`
		} `json:"data"`
	}
	q := map[string]any{"query": fmt.Sprintf("{ Aggregate { %s { meta { count } } } }", class)}
	if err := postJSON("http://"+host+"/v1/graphql", q, &out); err != nil {
		return 0, fmt.Errorf("count objects: %w", err)
	}
	res := out.Data["Aggregate"][class]
	if len(res) != 1 {
		return 0, fmt.Errorf("count objects: unexpected answer %v", out.Data)
	}
	return res[0].Meta.Count, nil
}

// startStack starts one stack on free loopback ports with a fresh data
// directory and returns Weaviate's host:port, how long it took to be
// ready, and the function that stops it.
func (r *runner) startStack(st stack) (host string, ready time.Duration, stop func() string, err error) {
	ports := make([]int, 8)
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return "", 0, nil, fmt.Errorf("%s: %w", st.name, err)
		}
	}
	var servers []*harness.Server
	var names []string // of servers, for their logs
	data := filepath.Join(r.work, "weaviate-"+strings.ReplaceAll(st.name, " ", "-"))
	stop = func() string {
		var tails []string
		for i := len(servers) - 1; i >= 0; i-- {
			servers[i].Stop()
			l := servers[i].Logs()
			tails = append(tails, fmt.Sprintf("%s log (end): %s", names[i], l[max(0, len(l)-4000):]))
		}
		os.RemoveAll(data) // 12 MP photos: over 10 GB per stack
		return strings.Join(tails, "\n")
	}
	start := time.Now()
	modules := map[string]string{
		"ENABLE_MODULES":  st.module,
		"MCLIP_MODEL_DIR": r.cfg.ModelDir,
		"MCLIP_VARIANT":   string(modelstore.VariantFP32),
		"MCLIP_THREADS":   fmt.Sprint(r.cfg.Threads),
	}
	if st.mclip != "" {
		env := map[string]string{"MCLIP_MODEL_DIR": r.cfg.ModelDir, "MCLIP_VARIANT": string(modelstore.VariantFP32),
			"MCLIP_THREADS": fmt.Sprint(r.cfg.Threads), "ONNXRUNTIME_LIB": ortlib.Path()}
		srv, err := harness.Launch(harness.Config{Binary: st.mclip, Env: env,
			Args:     []string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", ports[7])},
			ReadyURL: fmt.Sprintf("http://127.0.0.1:%d/.well-known/ready", ports[7])})
		if srv != nil {
			servers, names = append(servers, srv), append(names, "mclip serve")
		}
		if err != nil {
			return "", 0, nil, fmt.Errorf("%s: mclip serve: %w\n%s", st.name, err, stop())
		}
		modules = map[string]string{"ENABLE_MODULES": st.module, "CLIP_INFERENCE_API": fmt.Sprintf("http://127.0.0.1:%d", ports[7])}
	}
	env := map[string]string{
		"PERSISTENCE_DATA_PATH":                   data,
		"AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED": "true",
		"DEFAULT_VECTORIZER_MODULE":               "none",
		"DISABLE_TELEMETRY":                       "true",
		"LOG_LEVEL":                               "warning",
		"CLUSTER_HOSTNAME":                        "node1",
		"CLUSTER_BIND_ADDR":                       "127.0.0.1",
		"CLUSTER_ADVERTISE_ADDR":                  "127.0.0.1",
		"CLUSTER_GOSSIP_BIND_PORT":                fmt.Sprint(ports[1]),
		"CLUSTER_DATA_BIND_PORT":                  fmt.Sprint(ports[2]),
		"RAFT_PORT":                               fmt.Sprint(ports[3]),
		"RAFT_INTERNAL_RPC_PORT":                  fmt.Sprint(ports[4]),
		"RAFT_BOOTSTRAP_EXPECT":                   "1",
		"GRPC_PORT":                               fmt.Sprint(ports[5]),
		"GO_PROFILING_DISABLE":                    "true", // else on every interface, :6060 for all stacks
	}
	for k, v := range modules {
		env[k] = v
	}
	if st.module == "none" {
		env["ENABLE_MODULES"] = ""
	}
	for k, v := range st.env {
		env[k] = v
	}
	host = fmt.Sprintf("127.0.0.1:%d", ports[0])
	srv, err := harness.Launch(harness.Config{Binary: st.weaviate, Env: env,
		// Weaviate closes a request's connection after 60 s by default
		// (--write-timeout): a batch of 64 through a slow stack on a
		// loaded machine runs longer, and the client sees EOF.
		Args:     []string{"--host", "127.0.0.1", "--port", fmt.Sprint(ports[0]), "--scheme", "http", "--write-timeout", "10m"},
		ReadyURL: "http://" + host + "/v1/.well-known/ready"})
	if srv != nil {
		servers, names = append(servers, srv), append(names, "weaviate")
	}
	if err != nil {
		return "", 0, nil, fmt.Errorf("%s: %w\n%s", st.name, err, stop())
	}
	return host, time.Since(start), stop, nil
}

// importBatch posts objects to /v1/batch/objects and fails on any
// object's error.
func importBatch(host string, objs []map[string]any) error {
	var out []harness.BatchResult
	if err := postJSON("http://"+host+"/v1/batch/objects", map[string]any{"objects": objs}, &out); err != nil {
		return fmt.Errorf("batch import: %w", err)
	}
	if len(out) != len(objs) {
		return fmt.Errorf("batch import: %d results for %d objects", len(out), len(objs))
	}
	for i, o := range out {
		if msg := o.Err(); msg != "" {
			return fmt.Errorf("batch import: object %d: %s", i, msg)
		}
	}
	return nil
}

func postJSON(url string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 10 * time.Minute}
	resp, err := client.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s: %s", url, resp.Status, bytes.TrimSpace(rb))
	}
	if out != nil {
		if err := json.Unmarshal(rb, out); err != nil {
			return fmt.Errorf("%s: %w", url, err)
		}
	}
	return nil
}
