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
	"time"

	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/modelstore"
)

// weaviateSection measures import objects/s through Weaviate where the
// binaries are built, against the in-process vectorizer on the same
// objects in the same run.
func (r *runner) weaviateSection() error {
	const section = "Weaviate import"
	bin := filepath.Join(r.cfg.RepoRoot, "bin", "weaviate-mclip")
	if r.cfg.Quick {
		r.res.add(section, Row{Metric: "weaviate-mclip import objects/s", Note: "not measured in a quick run"})
	} else if _, err := os.Stat(bin); err != nil {
		r.res.add(section, Row{Metric: "weaviate-mclip import objects/s", Note: "not measured: bin/weaviate-mclip absent (`make weaviate`)"})
	} else if err := r.weaviateImport(section, bin); err != nil {
		return err
	}
	stock := filepath.Join(r.cfg.RepoRoot, "bin", "weaviate-stock")
	note := "not measured: bin/weaviate-stock absent"
	if _, err := os.Stat(stock); err == nil {
		note = "not measured: the suite does not drive stock Weaviate + `mclip serve` yet (integration/stockweaviate_test.go does, untimed)"
	}
	r.res.add(section, Row{Metric: "stock Weaviate + `mclip serve` import objects/s", Note: note})
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// weaviateImport starts weaviate-mclip on the fp32 models and imports
// text objects and image objects over REST batches.
func (r *runner) weaviateImport(section, bin string) error {
	ports := make([]int, 7)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return fmt.Errorf("weaviate: %w", err)
		}
		ports[i] = p
	}
	data := filepath.Join(r.work, "weaviate-data")
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
		"ENABLE_MODULES":                          "multi2vec-mclip",
		"MCLIP_MODEL_DIR":                         r.cfg.ModelDir,
		"MCLIP_VARIANT":                           string(modelstore.VariantFP32),
		"MCLIP_THREADS":                           fmt.Sprint(r.cfg.Threads),
	}
	host := fmt.Sprintf("127.0.0.1:%d", ports[0])
	start := time.Now()
	srv, err := harness.Launch(harness.Config{Binary: bin, Env: env,
		Args:     []string{"--host", "127.0.0.1", "--port", fmt.Sprint(ports[0]), "--scheme", "http"},
		ReadyURL: "http://" + host + "/v1/.well-known/ready"})
	if srv != nil {
		defer srv.Stop()
	}
	if err != nil {
		return fmt.Errorf("weaviate-mclip: %w", err)
	}
	ready := time.Since(start)
	class := map[string]any{
		"class": "Bench", "vectorizer": "multi2vec-mclip",
		"moduleConfig": map[string]any{"multi2vec-mclip": map[string]any{"textFields": []string{"title"}, "imageFields": []string{"image"}}},
		"properties":   []map[string]any{{"name": "title", "dataType": []string{"text"}}, {"name": "image", "dataType": []string{"blob"}}},
	}
	if err := postJSON("http://"+host+"/v1/schema", class, nil); err != nil {
		return fmt.Errorf("weaviate-mclip: create class: %w", err)
	}
	nText, nImage := 128, 32
	if r.cfg.Quick {
		nText, nImage = 16, 4
	}
	// In-process reference on the same items.
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
	textObjs := make([]map[string]any, nText)
	for i, t := range texts {
		textObjs[i] = map[string]any{"class": "Bench", "properties": map[string]any{"title": t}}
	}
	imageObjs := make([]map[string]any, nImage)
	for i, b := range js.Data {
		imageObjs[i] = map[string]any{"class": "Bench", "properties": map[string]any{"image": base64.StdEncoding.EncodeToString(b)}}
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
					return fmt.Errorf("weaviate-mclip: %w", err)
				}
			}
			d := time.Since(t)
			t = time.Now()
			if err := c.inProc(); err != nil {
				return err
			}
			dr := time.Since(t)
			rates = append(rates, float64(len(c.objs))/d.Seconds())
			rat = append(rat, dr.Seconds()/d.Seconds())
		}
		r.res.add(section, Row{Metric: "weaviate-mclip import, " + c.name, Value: median(rates), Unit: "objects/s",
			Ratio: median(rat), Ref: "in-process vectorizer on the same items, batches of 32", Runs: len(rates),
			Note: fmt.Sprintf("REST /v1/batch/objects, 64 per request, %d objects; server ready in %.1f s", len(c.objs), ready.Seconds())})
	}
	return nil
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
