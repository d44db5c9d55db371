package bench

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/inferenceapi"
	"github.com/mclip-go/mclip/vectorizer"
)

// serveSection is the load test of `mclip serve`: N objects vectorized as
// N concurrent single-object requests from 2×NumCPU clients (what stock
// Weaviate's multi2vec-clip sends during a batch import), with mclip's
// cross-request batching and without it (one model call per request, as
// the Python container does), against one request carrying all N. The
// server runs in process over loopback HTTP on the same models as the rest
// of the suite; each rep measures the three modes back to back.
func (r *runner) serveSection() error {
	const section = "mclip serve: concurrent single-object requests"
	cfg := config.Default()
	cfg.Threads = r.cfg.Threads
	v, err := vectorizer.Load(cfg, r.dir)
	if err != nil {
		return err
	}
	defer v.Close()
	nText, nImage := 64, 16
	if r.cfg.Quick {
		nText, nImage = 8, 4
	}
	texts, _, err := sentences(v.Text().Preparer, nText, 12)
	if err != nil {
		return err
	}
	js, err := r.jpegs(640, 480, nImage)
	if err != nil {
		return err
	}
	images := make([]string, len(js.Data))
	for i, b := range js.Data {
		images[i] = base64.StdEncoding.EncodeToString(b)
	}
	clients := 2 * runtime.NumCPU()
	modes := []struct {
		name    string
		opts    inferenceapi.Options
		singles bool
	}{
		{"one request of all N (reference)", inferenceapi.Options{}, false},
		{"singles, cross-request batching (default)", inferenceapi.Options{MaxWait: config.DefaultBatchWait}, true},
		{"singles, per request (as the Python container)", inferenceapi.Options{NoCrossRequestBatching: true}, true},
	}
	for _, kind := range []struct {
		field, what string
		items       []string
	}{{"texts", fmt.Sprintf("%d short texts", len(texts)), texts}, {"images", fmt.Sprintf("%d 640x480 JPEGs", len(images)), images}} {
		rates := make([][]float64, len(modes))
		calls := make([]int, len(modes))
		for range r.cfg.Reps {
			for m, mode := range modes {
				rate, n, err := serveLoad(v, cfg.BatchSize, mode.opts, kind.field, kind.items, mode.singles, clients)
				if err != nil {
					return fmt.Errorf("%s, %s: %w", kind.field, mode.name, err)
				}
				rates[m] = append(rates[m], rate)
				calls[m] = n
			}
		}
		for m, mode := range modes {
			row := Row{Metric: kind.what + ": " + mode.name, Value: median(rates[m]), Unit: "objects/s", Runs: len(rates[m]),
				Note: fmt.Sprintf("%d model calls; %d clients", calls[m], clients)}
			if m > 0 {
				row.Ratio, row.Ref = median(ratios(rates[m], rates[0])), "one request of all N"
			}
			r.res.add(section, row)
		}
	}
	return nil
}

// serveLoad serves the vectorizer with opts and sends items, one per
// request from clients concurrent clients or all in one request, and
// returns objects per second and the number of model calls made.
func serveLoad(v *vectorizer.Encoder, batch int, opts inferenceapi.Options, field string, items []string, singles bool, clients int) (float64, int, error) {
	counted := &countingEncoder{Encoder: v}
	opts.BatchSize = batch
	opts.MaxTexts, opts.MaxImages, opts.MaxBodyBytes = len(items), len(items), 1<<30
	// A budget that holds the one request of all items as well: the
	// server refuses to start with a body limit its budget cannot hold.
	opts.MemoryBudget = 4 << 30
	srv, err := inferenceapi.New(opts)
	if err != nil {
		return 0, 0, err
	}
	defer srv.Close()
	if err := srv.SetReady(counted, map[string]any{}); err != nil {
		return 0, 0, err
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 5 * time.Minute}
	start := time.Now()
	if !singles {
		if err := post(client, ts.URL, field, items); err != nil {
			return 0, 0, err
		}
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for range clients {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < int64(len(items)); i = next.Add(1) - 1 {
					if err := post(client, ts.URL, field, items[i:i+1]); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			return 0, 0, err
		}
	}
	return float64(len(items)) / time.Since(start).Seconds(), int(counted.calls.Load()), nil
}

func post(client *http.Client, url, field string, items []string) error {
	body, err := json.Marshal(map[string][]string{field: items})
	if err != nil {
		return err
	}
	resp, err := client.Post(url+"/vectorize", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("vectorize: %s: %s", resp.Status, raw)
	}
	return nil
}

// countingEncoder counts the model calls the server makes.
type countingEncoder struct {
	*vectorizer.Encoder
	calls atomic.Int64
}

func (c *countingEncoder) EncodeTexts(ctx context.Context, texts []string) ([][]float32, []error) {
	c.calls.Add(1)
	return c.Encoder.EncodeTexts(ctx, texts)
}

func (c *countingEncoder) EncodeImagesBase64(ctx context.Context, images []string) ([][]float32, []error) {
	c.calls.Add(1)
	return c.Encoder.EncodeImagesBase64(ctx, images)
}
