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
	if len(stacks) == 0 {
		return nil
	}
	return r.weaviateImport(section, stacks)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// stack is one way of running Weaviate with mclip: the native module, or
// stock Weaviate's multi2vec-clip calling `mclip serve`.
type stack struct {
	name, weaviate, module string
	mclip                  string // `mclip serve` binary, for the stock stack
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// weaviateImport imports text objects and image objects over REST
// batches through each stack in turn, against the in-process vectorizer on
// the same items.
func (r *runner) weaviateImport(section string, stacks []stack) error {
	nText, nImage := 128, 32
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
	texts, _, err := sentences(enc.Preparer, nText, 40)
	if err != nil {
		return err
	}
	js, err := r.jpegs(640, 480, nImage)
	if err != nil {
		return err
	}
	inProcText := func() error {
		for i := 0; i < len(texts); i += 32 {
			if err := r.encodeTexts(enc, texts[i:min(i+32, len(texts))]); err != nil {
				return err
			}
		}
		return nil
	}
	inProcImage := func() error {
		for i := 0; i < len(js.Data); i += 32 {
			if err := r.encodeImages(venc, js.Data[i:min(i+32, len(js.Data))]); err != nil {
				return err
			}
		}
		return nil
	}
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
		textObjs := make([]map[string]any, nText)
		for i, t := range texts {
			textObjs[i] = map[string]any{"class": "Bench", "properties": map[string]any{"title": t}}
		}
		imageObjs := make([]map[string]any, nImage)
		for i, b := range js.Data {
			imageObjs[i] = map[string]any{"class": "Bench", "properties": map[string]any{"image": base64.StdEncoding.EncodeToString(b)}}
		}
		for _, c := range []struct {
			name   string
			objs   []map[string]any
			inProc func() error
		}{{"text objects (40 tokens)", textObjs, inProcText}, {"image objects (640x480 JPEG)", imageObjs, inProcImage}} {
			var rates, rat []float64
			for range min(r.cfg.Reps, 3) {
				t := time.Now()
				for i := 0; i < len(c.objs); i += 64 {
					if err := importBatch(host, c.objs[i:min(i+64, len(c.objs))]); err != nil {
						stop()
						return fmt.Errorf("%s: %w", st.name, err)
					}
				}
				d := time.Since(t)
				t = time.Now()
				if err := c.inProc(); err != nil {
					stop()
					return err
				}
				dr := time.Since(t)
				rates = append(rates, float64(len(c.objs))/d.Seconds())
				rat = append(rat, dr.Seconds()/d.Seconds())
			}
			r.res.add(section, Row{Metric: st.name + " import, " + c.name, Value: median(rates), Unit: "objects/s",
				Ratio: median(rat), Ref: "in-process vectorizer on the same items, batches of 32", Runs: len(rates),
				Note: fmt.Sprintf("REST /v1/batch/objects, 64 per request, %d objects, fp32; ready in %.1f s", len(c.objs), ready.Seconds())})
		}
		stop()
	}
	return nil
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
	}
	for k, v := range modules {
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
	var out []struct {
		Result struct {
			Errors *struct {
				Error []struct {
					Message string `json:"message"`
				} `json:"error"`
			} `json:"errors"`
		} `json:"result"`
	}
	if err := postJSON("http://"+host+"/v1/batch/objects", map[string]any{"objects": objs}, &out); err != nil {
		return fmt.Errorf("batch import: %w", err)
	}
	for i, o := range out {
		if o.Result.Errors != nil && len(o.Result.Errors.Error) > 0 {
			return fmt.Errorf("batch import: object %d: %s", i, o.Result.Errors.Error[0].Message)
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
