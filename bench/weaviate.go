package bench

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
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
	return r.weaviateImport(section, stacks)
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

// Import size: weaviateObjects objects with a title and an image each,
// imported in weaviateChunks consecutive runs (the median of their rates is
// reported), each followed by the in-process vectorizer on the first
// weaviateRef objects of that run (its per-object time is the reference:
// the whole run again would double the section's time).
const (
	weaviateObjects = 2000
	weaviateChunks  = 4
	weaviateBatch   = 64 // objects per /v1/batch/objects request
	weaviateRef     = 128
)

// weaviateImport imports image+text objects over REST batches through
// each stack in turn, against the in-process vectorizer on the same items.
func (r *runner) weaviateImport(section string, stacks []stack) error {
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
	texts, meanTokens, err := sentences(enc.Preparer, weaviateObjects, 40)
	if err != nil {
		return err
	}
	// 64 distinct photos, each used by about 31 objects.
	js, err := r.jpegs(640, 480, 64)
	if err != nil {
		return err
	}
	image := func(i int) []byte { return js.Data[i%len(js.Data)] }
	b64 := make([]string, len(js.Data))
	for i, b := range js.Data {
		b64[i] = base64.StdEncoding.EncodeToString(b)
	}
	objs := make([]map[string]any, weaviateObjects)
	for i, t := range texts {
		objs[i] = map[string]any{"class": "Bench", "properties": map[string]any{"title": t, "image": b64[i%len(b64)]}}
	}
	// The in-process reference vectorizes what Weaviate does: each object's
	// title and image, in batches of 32.
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
	chunk := weaviateObjects / weaviateChunks
	for _, st := range stacks {
		r.logf("weaviate: %s", st.name)
		host, ready, stop, err := r.startStack(st)
		if err != nil {
			return err
		}
		class := map[string]any{
			"class": "Bench", "vectorizer": st.module,
			"moduleConfig": map[string]any{st.module: map[string]any{"textFields": []string{"title"}, "imageFields": []string{"image"}}},
			"properties":   []map[string]any{{"name": "title", "dataType": []string{"text"}}, {"name": "image", "dataType": []string{"blob"}}},
		}
		if err := postJSON("http://"+host+"/v1/schema", class, nil); err != nil {
			stop()
			return fmt.Errorf("%s: create class: %w", st.name, err)
		}
		var rates, rat []float64
		for c := 0; c < weaviateObjects; c += chunk {
			t := time.Now()
			for i := c; i < c+chunk; i += weaviateBatch {
				if err := importBatch(host, objs[i:min(i+weaviateBatch, c+chunk)]); err != nil {
					stop()
					return fmt.Errorf("%s: %w", st.name, err)
				}
			}
			d := time.Since(t)
			t = time.Now()
			if err := inProc(c, c+weaviateRef); err != nil {
				stop()
				return err
			}
			dr := time.Since(t)
			rates = append(rates, float64(chunk)/d.Seconds())
			rat = append(rat, (dr.Seconds()/weaviateRef)/(d.Seconds()/float64(chunk)))
			r.logf("weaviate: %s: %d objects", st.name, c+chunk)
		}
		stored, err := countObjects(host, "Bench")
		stop()
		if err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
		if stored != weaviateObjects {
			return fmt.Errorf("%s: %d objects stored, want %d", st.name, stored, weaviateObjects)
		}
		r.res.add(section, Row{Metric: fmt.Sprintf("%s import, %d objects (title of %.0f tokens + 640x480 JPEG)", st.name, weaviateObjects, meanTokens),
			Value: median(rates), Unit: "objects/s", Ratio: median(rat), Ref: fmt.Sprintf("in-process vectorizer, batches of 32, on the first %d objects of each run", weaviateRef), Runs: len(rates),
			Note: fmt.Sprintf("REST /v1/batch/objects, %d per request, fp32; %d runs of %d objects, all %d stored; ready in %.1f s",
				weaviateBatch, len(rates), chunk, stored, ready.Seconds())})
	}
	return nil
}

// countObjects returns the number of objects of class, as Weaviate's
// Aggregate counts them.
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
func (r *runner) startStack(st stack) (host string, ready time.Duration, stop func(), err error) {
	ports := make([]int, 8)
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return "", 0, nil, fmt.Errorf("%s: %w", st.name, err)
		}
	}
	var servers []*harness.Server
	stop = func() {
		for i := len(servers) - 1; i >= 0; i-- {
			servers[i].Stop()
		}
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
			servers = append(servers, srv)
		}
		if err != nil {
			stop()
			return "", 0, nil, fmt.Errorf("%s: mclip serve: %w", st.name, err)
		}
		modules = map[string]string{"ENABLE_MODULES": st.module, "CLIP_INFERENCE_API": fmt.Sprintf("http://127.0.0.1:%d", ports[7])}
	}
	env := map[string]string{
		"PERSISTENCE_DATA_PATH":                   filepath.Join(r.work, "weaviate-"+strings.ReplaceAll(st.name, " ", "-")),
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
	for k, v := range st.env {
		env[k] = v
	}
	host = fmt.Sprintf("127.0.0.1:%d", ports[0])
	srv, err := harness.Launch(harness.Config{Binary: st.weaviate, Env: env,
		Args:     []string{"--host", "127.0.0.1", "--port", fmt.Sprint(ports[0]), "--scheme", "http"},
		ReadyURL: "http://" + host + "/v1/.well-known/ready"})
	if srv != nil {
		servers = append(servers, srv)
	}
	if err != nil {
		stop()
		return "", 0, nil, fmt.Errorf("%s: %w", st.name, err)
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
