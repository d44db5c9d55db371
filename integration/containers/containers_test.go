// Package containers_test runs the images and compose quickstarts of
// deploy/ for real (`make image-test`, MCLIP_IMAGE_TEST=1): each quickstart
// comes up on a generated model directory and is driven through its
// published ports only, restarted, and taken down without leftovers.
//
// It needs podman (setup/podman), docker-compose and the images
// localhost/mclip:dev, localhost/weaviate-mclip:dev and
// localhost/weaviate-stock:dev (the stand-in for Weaviate's own image),
// which `make image-test` builds first.
package containers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/testfixture/testimage"
	"github.com/mclip-go/mclip/vectorizer"
)

const readyTimeout = 5 * time.Minute

// stack is one compose quickstart and the vectorizer its class uses.
type stack struct {
	name       string
	file       string
	vectorizer string
	env        map[string]string
}

var stacks = []stack{
	{name: "weaviate-mclip", file: "deploy/compose/weaviate-mclip.yml", vectorizer: "multi2vec-mclip"},
	{name: "multi2vec-clip", file: "deploy/compose/multi2vec-clip.yml", vectorizer: "multi2vec-clip",
		env: map[string]string{"WEAVIATE_IMAGE": "localhost/weaviate-stock:dev"}},
}

// texts in several languages and scripts, one per object in turn.
var texts = []string{
	"a dog swimming in the water",
	"ein Hund schwimmt im Wasser",
	"un chien nage dans l'eau",
	"un perro nada en el agua",
	"собака плавает в воде",
	"犬が水の中で泳いでいる",
	"狗在水里游泳",
	"الكلب يسبح في الماء",
}

func TestQuickstarts(t *testing.T) {
	if os.Getenv("MCLIP_IMAGE_TEST") != "1" {
		t.Skip("MCLIP_IMAGE_TEST=1 runs the container images (make image-test)")
	}
	root := harness.RepoRoot(t)
	for _, tool := range []string{"podman", "docker-compose"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "%s not found: run setup/podman", tool)
	}
	for _, img := range []string{"localhost/mclip:dev", "localhost/weaviate-mclip:dev", "localhost/weaviate-stock:dev"} {
		require.NoError(t, exec.Command("podman", "image", "exists", img).Run(), "image %s missing: run make images (deploy/docker/build --stock)", img)
	}
	// The images carry what we owe others, as the repository does.
	for _, img := range []string{"localhost/mclip:dev", "localhost/weaviate-mclip:dev"} {
		for _, f := range []string{"LICENSE", "NOTICE", "licenses/go-modules.txt"} {
			want, err := os.ReadFile(filepath.Join(root, f))
			require.NoError(t, err)
			got, err := exec.Command("podman", "run", "--rm", "--entrypoint", "cat", img, "/usr/local/share/doc/mclip/"+filepath.Base(f)).Output()
			require.NoError(t, err, "%s in %s", f, img)
			assert.Equal(t, string(want), string(got), "%s in %s differs from the repository's: rebuild the images", f, img)
		}
	}

	// The model directory, readable by the mclip image's non-root user.
	modelDir, err := os.MkdirTemp("", "mclip-image-test-model-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(modelDir) })
	size := modelgen.Tiny
	if os.Getenv("MCLIP_IMAGE_TEST_MODEL_SIZE") == "full" {
		size = modelgen.Full
	}
	require.NoError(t, modelgen.Generate(modelgen.Options{Out: modelDir, Size: size, Seed: 7}))
	require.NoError(t, filepath.Walk(modelDir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if info.IsDir() {
			mode = 0o755
		}
		return os.Chmod(p, mode)
	}))
	cfg := config.Default()
	cfg.ModelDir = modelDir
	cfg.Threads = 1
	vec, err := vectorizer.Load(cfg, modelstore.Dir{Root: modelDir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = vec.Close() })

	sock := startPodmanService(t)
	for _, st := range stacks {
		t.Run(st.name, func(t *testing.T) {
			c := newCompose(t, root, sock, st, modelDir)
			s := &suite{c: c, st: st, vec: vec}
			s.run(t)
		})
	}
	t.Run(clusterStack.name, func(t *testing.T) {
		testCluster(t, root, sock, modelDir, vec)
	})
}

// startPodmanService serves the Docker API for docker-compose on a socket of
// its own, for the length of the test.
func startPodmanService(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(os.TempDir(), fmt.Sprintf("mclip-image-test-%d.sock", os.Getpid()))
	_ = os.Remove(sock)
	cmd := exec.Command("podman", "system", "service", "--time=0", "unix://"+sock)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = os.Remove(sock)
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.Dial("unix", sock)
		if err == nil {
			conn.Close()
			return sock
		}
		if time.Now().After(deadline) {
			t.Fatalf("podman system service did not listen on %s: %v\n%s", sock, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// compose runs docker-compose on one quickstart under a project name of its
// own, with free ports published on 127.0.0.1.
type compose struct {
	root, file, project string
	env                 []string
	httpPort            int
	stopHealth          func()
}

func newCompose(t *testing.T, root, sock string, st stack, modelDir string) *compose {
	t.Helper()
	c := &compose{
		root:     root,
		file:     filepath.Join(root, st.file),
		project:  fmt.Sprintf("mclipit%d%s", os.Getpid(), strings.ReplaceAll(st.name, "-", "")),
		httpPort: harness.FreePort(t),
	}
	env := map[string]string{
		"DOCKER_HOST":          "unix://" + sock,
		"WEAVIATE_PORT":        strconv.Itoa(c.httpPort),
		"GRPC_PORT":            strconv.Itoa(harness.FreePort(t)),
		"MCLIP_MODEL_HOST_DIR": modelDir,
		"HF_HUB_OFFLINE":       "1",
	}
	for k, v := range st.env {
		env[k] = v
	}
	c.env = os.Environ()
	for k, v := range env {
		c.env = append(c.env, k+"="+v)
	}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := c.cmd("logs", "--no-color", "--tail", "60")
			t.Logf("%s logs:\n%s", c.project, out)
		}
		if c.stopHealth != nil {
			c.stopHealth()
		}
		_, _ = c.cmd("down", "-v", "--remove-orphans", "-t", "10")
	})
	return c
}

func (c *compose) cmd(args ...string) (string, error) {
	cmd := exec.Command("docker-compose", append([]string{"-p", c.project, "-f", c.file}, args...)...)
	cmd.Dir = c.root
	cmd.Env = c.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker-compose %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// containers are the project's container ids (all states).
func (c *compose) containers(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("podman", "ps", "-aq", "--filter", "label=com.docker.compose.project="+c.project).Output()
	require.NoError(t, err)
	return strings.Fields(string(out))
}

// up starts the stack and runs the health checks (podman has no timer for
// them without systemd) until the stack is down, then waits until every
// container is healthy and Weaviate is ready on its published port.
func (c *compose) up(t *testing.T) time.Duration {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			for _, id := range c.containers(t) {
				_ = exec.CommandContext(ctx, "podman", "healthcheck", "run", id).Run()
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	c.stopHealth = func() { cancel(); wg.Wait() }
	_, err := c.cmd("up", "-d")
	require.NoError(t, err)
	c.waitHealthy(t)
	return time.Since(start)
}

// waitHealthy waits until every container of the project is healthy and
// Weaviate is ready on its published port.
func (c *compose) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for {
		healthy := true
		ids := c.containers(t)
		for _, id := range ids {
			out, err := exec.Command("podman", "inspect", "-f", "{{.State.Health.Status}}", id).Output()
			if err != nil || strings.TrimSpace(string(out)) != "healthy" {
				healthy = false
			}
		}
		if healthy && len(ids) > 0 && c.ready() {
			return
		}
		if time.Now().After(deadline) {
			out, _ := c.cmd("ps")
			t.Fatalf("%s not healthy after %s:\n%s", c.project, readyTimeout, out)
		}
		time.Sleep(time.Second)
	}
}

func (c *compose) ready() bool {
	resp, err := http.Get(c.url("/v1/.well-known/ready"))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (c *compose) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", c.httpPort, path)
}

// down stops the stack, keeping its volumes unless removeVolumes.
func (c *compose) down(t *testing.T, removeVolumes bool) {
	t.Helper()
	if c.stopHealth != nil {
		c.stopHealth()
		c.stopHealth = nil
	}
	args := []string{"down", "--remove-orphans", "-t", "30"}
	if removeVolumes {
		args = append(args, "-v")
	}
	_, err := c.cmd(args...)
	require.NoError(t, err)
}

// suite is one quickstart's checks.
type suite struct {
	c    *compose
	st   stack
	vec  *vectorizer.Encoder
	objs []object
}

type object struct {
	id          string
	text, image string
	vector      []float32
}

const class = "ImageTestDoc"

func (s *suite) run(t *testing.T) {
	took := s.c.up(t)
	t.Logf("%s: up to ready in %s", s.st.name, took.Round(100*time.Millisecond))

	s.createClass(t)
	s.importBatch(t)
	s.checkVectors(t)
	s.search(t)

	s.c.down(t, false)
	took = s.c.up(t)
	t.Logf("%s: restarted, ready in %s", s.st.name, took.Round(100*time.Millisecond))
	s.checkVectors(t)

	s.c.down(t, true)
	s.assertNothingLeft(t)
}

func (s *suite) createClass(t *testing.T) {
	t.Helper()
	body := map[string]any{
		"class":      class,
		"vectorizer": s.st.vectorizer,
		"moduleConfig": map[string]any{s.st.vectorizer: map[string]any{
			"textFields": []string{"text"}, "imageFields": []string{"image"},
		}},
		"properties": []map[string]any{
			{"name": "text", "dataType": []string{"text"}},
			{"name": "image", "dataType": []string{"blob"}},
		},
	}
	status, out := s.call(t, "POST", "/v1/schema", body)
	require.Equal(t, http.StatusOK, status, "%s", out)
}

// importBatch sends 20 objects (text and image, text only, image only) and
// one with a corrupt image in one batch: the corrupt one gets an error of
// its own, the 20 are stored.
func (s *suite) importBatch(t *testing.T) {
	t.Helper()
	var batch []map[string]any
	for i := range 20 {
		o := object{id: fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)}
		switch i % 3 {
		case 0:
			o.text, o.image = texts[i%len(texts)], testimage.GradientPNGBase64(i, 48+i, 40)
		case 1:
			o.text = texts[i%len(texts)]
		default:
			o.image = testimage.GradientPNGBase64(i, 40, 48+i)
		}
		var parts [][]float32
		if o.text != "" {
			v, errs := s.vec.EncodeTexts(context.Background(), []string{o.text})
			require.NoError(t, errs[0])
			parts = append(parts, v[0])
		}
		if o.image != "" {
			v, errs := s.vec.EncodeImagesBase64(context.Background(), []string{o.image})
			require.NoError(t, errs[0])
			parts = append(parts, v[0])
		}
		o.vector = harness.Mean(parts...)
		s.objs = append(s.objs, o)
		props := map[string]any{}
		if o.text != "" {
			props["text"] = o.text
		}
		if o.image != "" {
			props["image"] = o.image
		}
		batch = append(batch, map[string]any{"class": class, "id": o.id, "properties": props})
	}
	corrupt := base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\n this is not an image"))
	batch = append(batch, map[string]any{"class": class, "id": "00000000-0000-4000-8000-000000000999",
		"properties": map[string]any{"text": "corrupt", "image": corrupt}})

	status, out := s.call(t, "POST", "/v1/batch/objects", map[string]any{"objects": batch})
	require.Equal(t, http.StatusOK, status, "%s", out)
	var res []harness.BatchResult
	require.NoError(t, json.Unmarshal(out, &res))
	require.Len(t, res, 21)
	for _, r := range res {
		msg := r.Err()
		if strings.HasSuffix(r.ID, "999") {
			require.NotEmpty(t, msg, "the corrupt image was accepted")
			assert.Regexp(t, `(?i)image|decode|png|format`, msg)
			t.Logf("%s: the corrupt image's error: %s", s.st.name, msg)
			continue
		}
		assert.Empty(t, msg, "object %s", r.ID)
	}
	status, _ = s.call(t, "GET", "/v1/objects/"+class+"/00000000-0000-4000-8000-000000000999", nil)
	assert.Equal(t, http.StatusNotFound, status, "the corrupt object was stored")
}

// checkVectors compares every stored vector with the one computed here.
func (s *suite) checkVectors(t *testing.T) {
	t.Helper()
	status, out := s.call(t, "GET", "/v1/objects?class="+class+"&limit=100", nil)
	require.Equal(t, http.StatusOK, status, "%s", out)
	var list struct {
		Objects []struct{ ID string } `json:"objects"`
	}
	require.NoError(t, json.Unmarshal(out, &list))
	assert.Len(t, list.Objects, len(s.objs), "objects stored")
	for _, o := range s.objs {
		status, out := s.call(t, "GET", "/v1/objects/"+class+"/"+o.id+"?include=vector", nil)
		require.Equal(t, http.StatusOK, status, "object %s: %s", o.id, out)
		var got struct {
			Vector []float32 `json:"vector"`
		}
		require.NoError(t, json.Unmarshal(out, &got))
		assertClose(t, o.vector, got.Vector, o.id)
	}
}

// search runs nearText in three languages and nearImage: each hit's distance
// is the one computed here, and the first hit is the nearest object.
func (s *suite) search(t *testing.T) {
	t.Helper()
	queries := []struct {
		name, arg string
		vector    func() []float32
	}{}
	for _, q := range []string{"a dog in the snow", "ein Hund im Schnee", "雪の中の犬"} {
		queries = append(queries, struct {
			name, arg string
			vector    func() []float32
		}{"nearText " + q, fmt.Sprintf("nearText:{concepts:[%q]}", q), func() []float32 {
			v, errs := s.vec.EncodeTexts(context.Background(), []string{q})
			require.NoError(t, errs[0])
			return v[0]
		}})
	}
	img := testimage.GradientPNGBase64(3, 60, 50)
	queries = append(queries, struct {
		name, arg string
		vector    func() []float32
	}{"nearImage", fmt.Sprintf("nearImage:{image:%q}", img), func() []float32 {
		v, errs := s.vec.EncodeImagesBase64(context.Background(), []string{img})
		require.NoError(t, errs[0])
		return v[0]
	}})
	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			qv := q.vector()
			dist := map[string]float64{}
			best := math.Inf(1)
			for _, o := range s.objs {
				dist[o.id] = 1 - vectorizer.Cosine(qv, o.vector)
				best = math.Min(best, dist[o.id])
			}
			hits := harness.NearHits(t, s.c.url("/v1/graphql"), class, q.arg, 3)
			require.Len(t, hits, 3)
			assert.InDelta(t, best, hits[0].Distance, 1e-3, "the first hit is the nearest object")
			for _, h := range hits {
				want, ok := dist[h.ID]
				require.True(t, ok, "unknown hit %s", h.ID)
				assert.InDelta(t, want, h.Distance, 1e-3, "hit %s", h.ID)
			}
			assert.True(t, sort.SliceIsSorted(hits, func(i, j int) bool {
				return hits[i].Distance < hits[j].Distance
			}))
		})
	}
}

// assertNothingLeft: no container, volume or network of the project.
func (s *suite) assertNothingLeft(t *testing.T) {
	t.Helper()
	assert.Empty(t, s.c.containers(t), "containers left")
	for _, what := range [][]string{
		{"volume", "ls", "-q", "--filter", "label=com.docker.compose.project=" + s.c.project},
		{"network", "ls", "-q", "--filter", "label=com.docker.compose.project=" + s.c.project},
	} {
		out, err := exec.Command("podman", what...).Output()
		require.NoError(t, err)
		assert.Empty(t, strings.Fields(string(out)), "%s left", what[0])
	}
	out, err := exec.Command("podman", "network", "ls", "--format", "{{.Name}}").Output()
	require.NoError(t, err)
	assert.NotContains(t, string(out), s.c.project, "network left")
	out, err = exec.Command("podman", "volume", "ls", "--format", "{{.Name}}").Output()
	require.NoError(t, err)
	assert.NotContains(t, string(out), s.c.project, "volume left")
}

func (s *suite) call(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	return call(t, method, s.c.url(path), body)
}

// call sends a JSON request and returns the status and body.
func call(t *testing.T, method, url string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	client := http.Client{Timeout: 2 * time.Minute}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, out
}

func assertClose(t *testing.T, want, got []float32, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		if math.Abs(float64(want[i]-got[i])) > 1e-4 {
			t.Fatalf("%s: vector differs at %d: want %v, got %v", what, i, want[i], got[i])
		}
	}
}
