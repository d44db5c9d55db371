package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/testfixture/testimage"
)

// TestStockWeaviateConcurrentBatchesLoseNothing sends 100 batch imports of
// 8 objects (a text and an image each) at once to stock Weaviate with
// multi2vec-clip pointed at `mclip serve`. Weaviate sends each batch's
// objects runtime.NumCPU() requests at a time and fails an object on any
// error answer without retrying, so a server that refuses under load loses
// objects; mclip serve queues them within its memory budget. Every object
// must be stored with the vector the encoders give its text and image. It
// runs with the default budget, and with one that holds a few requests at
// a time, so that most wait. It logs mclip serve's peak RSS (VmHWM) and how
// many requests waited.
func TestStockWeaviateConcurrentBatchesLoseNothing(t *testing.T) {
	weaviateBin := harness.Binary(t, "weaviate-stock",
		"go build -o bin/weaviate-stock github.com/weaviate/weaviate/cmd/weaviate-server (from a module requiring github.com/weaviate/weaviate v1.35.2)")
	mclipBin := harness.Binary(t, "mclip", "make build")
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"default budget", nil},
		// One request of the largest body (1 MiB) may need 19 MiB; one of
		// these (a text and an image of about 2 KB) is charged several MiB
		// until it is decoded, so they are admitted a few at a time.
		{"a budget of a few requests", []string{"--max-body-bytes", "1048576", "--request-memory", "20MiB"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			importConcurrently(t, launchStack(t, mclipBin, weaviateBin, "queue-token", tt.args...))
		})
	}
}

// importConcurrently imports 100 batches of 8 objects at once through st
// and checks that every object is stored with its vector.
func importConcurrently(t *testing.T, st stack) {
	const batches, perBatch = 100, 8

	status, body := call(t, "POST", st.api+"/schema", map[string]any{
		"class": "Pair", "vectorizer": "multi2vec-clip",
		"moduleConfig": map[string]any{"multi2vec-clip": map[string]any{
			"textFields": []string{"title"}, "imageFields": []string{"image"},
		}},
		"properties": []map[string]any{
			{"name": "title", "dataType": []string{"text"}},
			{"name": "image", "dataType": []string{"blob"}},
		},
	})
	require.Equal(t, http.StatusOK, status, "create class: %s", body)

	type object struct{ id, title, image string }
	objects := make([][]object, batches)
	for b := range objects {
		for k := range perBatch {
			objects[b] = append(objects[b], object{
				id:    uuid.NewString(),
				title: fmt.Sprintf("Objekt %d-%d: un chat sur le toit, 狗在水里游泳", b, k),
				image: testimage.GradientPNGBase64(b*perBatch+k, 24+k, 16+b%9),
			})
		}
	}

	var (
		mu     sync.Mutex
		failed []string
		wg     sync.WaitGroup
	)
	start := time.Now()
	for b := range objects {
		wg.Go(func() {
			payload := make([]map[string]any, 0, perBatch)
			for _, o := range objects[b] {
				payload = append(payload, map[string]any{"class": "Pair", "id": o.id,
					"properties": map[string]any{"title": o.title, "image": o.image}})
			}
			status, body := call(t, "POST", st.api+"/batch/objects", map[string]any{"objects": payload})
			mu.Lock()
			defer mu.Unlock()
			if status != http.StatusOK {
				failed = append(failed, fmt.Sprintf("batch %d: status %d: %s", b, status, body))
				return
			}
			var results []harness.BatchResult
			if err := json.Unmarshal(body, &results); err != nil {
				failed = append(failed, fmt.Sprintf("batch %d: %v: %s", b, err, body))
				return
			}
			for _, r := range results {
				if msg := r.Err(); msg != "" {
					failed = append(failed, fmt.Sprintf("batch %d: %s", b, msg))
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	// Every object stored, with the mean of its text's and image's vectors.
	stored := listVectors(t, st.api, "Pair", batches*perBatch)
	native := nativeVectorizer(t, st.modelDir)
	var all []object
	for _, batch := range objects {
		all = append(all, batch...)
	}
	titles := make([]string, len(all))
	images := make([]string, len(all))
	for i, o := range all {
		titles[i], images[i] = o.title, o.image
	}
	textVecs, errs := native.EncodeTexts(context.Background(), titles)
	for _, err := range errs {
		require.NoError(t, err)
	}
	imageVecs, errs := native.EncodeImagesBase64(context.Background(), images)
	for _, err := range errs {
		require.NoError(t, err)
	}
	lost := 0
	for i, o := range all {
		vec, ok := stored[o.id]
		if !ok || len(vec) == 0 {
			lost++
			continue
		}
		assertClose(t, harness.Mean(textVecs[i], imageVecs[i]), vec, "object "+o.title)
	}
	for i, f := range failed {
		if i == 5 {
			t.Errorf("and %d more failures", len(failed)-i)
			break
		}
		t.Error(f)
	}
	assert.Zero(t, lost, "objects lost of %d", len(all))
	assert.Empty(t, failed, "failed objects")

	status, metrics := call(t, "GET", st.mclipURL+"/metrics", nil)
	require.Equal(t, http.StatusOK, status)
	requests := metricValue(t, metrics, `mclip_vectorize_wait_seconds_count`)
	atOnce := metricValue(t, metrics, `mclip_vectorize_wait_seconds_bucket{le="0"}`)
	waited := metricValue(t, metrics, `mclip_vectorize_wait_seconds_sum`)
	t.Logf("%d batches of %d objects at once in %v: %v vectorize requests, %v of them waited for room (%.1f s in all); mclip serve's peak RSS (VmHWM): %s",
		batches, perBatch, elapsed.Round(time.Millisecond), requests, requests-atOnce, waited, peakRSS(t, st.mclip.Pid()))

	assert.NotContains(t, string(metrics), `code="429"`, "no request refused")
}

// listVectors lists up to limit objects of a class with their vectors, by
// id.
func listVectors(t *testing.T, api, class string, limit int) map[string][]float32 {
	t.Helper()
	status, body := call(t, "GET", fmt.Sprintf("%s/objects?class=%s&limit=%d&include=vector", api, class, limit+1), nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	var list struct {
		Objects []struct {
			ID     string    `json:"id"`
			Vector []float32 `json:"vector"`
		} `json:"objects"`
	}
	require.NoError(t, json.Unmarshal(body, &list))
	out := make(map[string][]float32, len(list.Objects))
	for _, o := range list.Objects {
		out[o.ID] = o.Vector
	}
	return out
}

// peakRSS is a process's VmHWM from /proc/PID/status, as written there.
func peakRSS(t *testing.T, pid int) string {
	t.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	require.NoError(t, err)
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return ""
}
