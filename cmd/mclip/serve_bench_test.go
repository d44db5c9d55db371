package main

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/inferenceapi"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer"
)

// BenchmarkServeLoad is the import load test on the real encoders: N
// objects vectorized over HTTP as single-object requests from 2*NumCPU
// concurrent clients (what Weaviate's batch import sends), with cross-request
// batching (with and without the wait) and without it (the container's
// behaviour), against one request of all N. Models: MCLIP_BENCH_MODEL_DIR
// (the real ones), else generated ones of MCLIP_BENCH_MODEL_SIZE (tiny,
// the default, or full: random weights at the real models' size and cost);
// MCLIP_BENCH_OBJECTS sets N (default 64), and
// MCLIP_BENCH_MODALITY=image sends images instead of texts.
//
//	MCLIP_BENCH_MODEL_DIR=DIR go test -run '^$' -bench ServeLoad -benchtime 3x ./cmd/mclip
func BenchmarkServeLoad(b *testing.B) {
	dir := os.Getenv("MCLIP_BENCH_MODEL_DIR")
	if dir == "" {
		size, err := modelgen.ParseSize(cmp.Or(os.Getenv("MCLIP_BENCH_MODEL_SIZE"), "tiny"))
		if err != nil {
			b.Fatal(err)
		}
		dir = b.TempDir()
		if _, err := modelgen.Write(modelgen.Options{Out: dir, Size: size}); err != nil {
			b.Fatal(err)
		}
	}
	objects := 64
	if n, err := strconv.Atoi(os.Getenv("MCLIP_BENCH_OBJECTS")); err == nil && n > 0 {
		objects = n
	}
	images := os.Getenv("MCLIP_BENCH_MODALITY") == "image"
	cfg, err := config.FromEnv()
	if err != nil {
		b.Fatal(err)
	}
	cfg.ModelDir = dir
	v, err := vectorizer.Load(cfg, modelstore.Dir{Root: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	items := benchItems(b, objects, images)
	clients := 2 * runtime.NumCPU()
	b.Logf("models %s (%s, %s), %d objects, %d clients, batch size %d", dir, v.Info().Text.File, v.Info().Vision.File, objects, clients, cfg.BatchSize)

	cases := []struct {
		name    string
		opts    inferenceapi.Options
		singles bool
	}{
		{"singles/cross-request-batching", inferenceapi.Options{MaxWait: inferenceapi.DefaultMaxWait}, true},
		{"singles/cross-request-batching-no-wait", inferenceapi.Options{}, true},
		{"singles/per-request(container)", inferenceapi.Options{NoCrossRequestBatching: true}, true},
		{"one-request", inferenceapi.Options{}, false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			c.opts.BatchSize = cfg.BatchSize
			c.opts.MaxTexts, c.opts.MaxImages = objects, objects
			c.opts.MaxBodyBytes = 1 << 30
			srv, err := inferenceapi.New(c.opts)
			if err != nil {
				b.Fatal(err)
			}
			if err := srv.SetReady(v, map[string]any{}); err != nil {
				b.Fatal(err)
			}
			ts := httptest.NewServer(srv.Handler())
			defer func() {
				ts.Close()
				srv.Close()
			}()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
			field := "texts"
			if images {
				field = "images"
			}
			b.ResetTimer()
			for range b.N {
				if !c.singles {
					benchPost(b, client, ts.URL, map[string]any{field: items})
					continue
				}
				var next atomic.Int64
				var wg sync.WaitGroup
				for range clients {
					wg.Go(func() {
						for i := next.Add(1) - 1; i < int64(objects); i = next.Add(1) - 1 {
							benchPost(b, client, ts.URL, map[string]any{field: items[i : i+1]})
						}
					})
				}
				wg.Wait()
			}
			b.StopTimer()
			b.ReportMetric(float64(objects*b.N)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

func benchItems(b *testing.B, n int, images bool) []string {
	texts := []string{
		"Ein Hund spielt im Schnee vor einem roten Haus",
		"A man riding a bicycle along the beach at sunset",
		"Un chat noir dort sur le toit d'une vieille maison",
		"一只小猫坐在窗台上看着外面的雨",
		"Молодая женщина читает книгу в парке",
		"Una casa amarilla con flores en el balcón",
	}
	out := make([]string, n)
	for i := range out {
		if images {
			out[i] = benchImage(b, i)
		} else {
			out[i] = fmt.Sprintf("%s (%d)", texts[i%len(texts)], i)
		}
	}
	return out
}

// benchImage is a 640x480 PNG, a typical photo size, varying with i.
func benchImage(b *testing.B, i int) string {
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for y := range 480 {
		for x := range 640 {
			img.Set(x, y, color.RGBA{uint8(x + i), uint8(y * i), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		b.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func benchPost(b *testing.B, client *http.Client, url string, body any) {
	raw, _ := json.Marshal(body)
	res, err := client.Post(url+"/vectorize", "application/json", bytes.NewReader(raw))
	if err != nil {
		b.Error(err)
		return
	}
	defer res.Body.Close()
	msg, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		b.Errorf("status %d: %.200s", res.StatusCode, msg)
	}
}
