package inferenceapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/testfixture/fakeencoder"
)

// BenchmarkVectorize is the load test of an import: vectorizing `objects`
// texts over HTTP either as single-object requests from `clients`
// concurrent clients (as Weaviate's batch import sends them, one request
// per object) or as one request of all of them. The fake encoder costs a
// fixed overhead per model call plus a cost per item, so grouping items
// pays. Compare objects/s across the sub-benchmarks:
//
//	go test -run '^$' -bench Vectorize ./inferenceapi
func BenchmarkVectorize(b *testing.B) {
	const (
		objects = 256
		clients = 16
	)
	enc := func() *fakeencoder.Encoder {
		return &fakeencoder.Encoder{Overhead: 4 * time.Millisecond, PerItem: 100 * time.Microsecond}
	}
	cases := []struct {
		name    string
		opts    Options
		singles bool
	}{
		{"singles/cross-request-batching", Options{BatchSize: 32, MaxWait: config.DefaultBatchWait}, true},
		{"singles/cross-request-batching-no-wait", Options{BatchSize: 32}, true},
		{"singles/per-request(container)", Options{BatchSize: 32, NoCrossRequestBatching: true}, true},
		{"one-request", Options{BatchSize: 32, MaxTexts: objects}, false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			s, err := New(c.opts)
			if err != nil {
				b.Fatal(err)
			}
			e := enc()
			if err := s.SetReady(e, testMeta); err != nil {
				b.Fatal(err)
			}
			ts := httptest.NewServer(s.Handler())
			defer func() {
				ts.Close()
				s.Close()
			}()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
			b.ResetTimer()
			for range b.N {
				if c.singles {
					loadSingles(b, client, ts.URL, objects, clients)
				} else {
					texts := make([]string, objects)
					for i := range texts {
						texts[i] = fmt.Sprintf("object %d", i)
					}
					post(b, client, ts.URL, map[string]any{"texts": texts})
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(objects*b.N)/b.Elapsed().Seconds(), "objects/s")
			b.ReportMetric(float64(len(e.CallSizes()))/float64(b.N), "calls/op")
		})
	}
}

// loadSingles sends n single-text requests from k concurrent clients.
func loadSingles(b *testing.B, client *http.Client, url string, n, k int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range k {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				post(b, client, url, map[string]any{"texts": []string{fmt.Sprintf("object %d", i)}})
			}
		})
	}
	wg.Wait()
}

func post(b *testing.B, client *http.Client, url string, body any) {
	raw, _ := json.Marshal(body)
	res, err := client.Post(url+"/vectorize", "application/json", bytes.NewReader(raw))
	if err != nil {
		b.Error(err)
		return
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil || res.StatusCode != http.StatusOK {
		b.Errorf("status %d, %v", res.StatusCode, err)
	}
}
