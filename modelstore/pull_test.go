package modelstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/config"
	ms "github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/modelstore/hubtest"
)

var avx2 = ms.CPU{Arch: "amd64", AVX2: true}

// blob is deterministic pseudo-random content of n bytes.
func blob(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// repos is every file of every variant, small.
func repos() map[string]map[string][]byte {
	text := map[string][]byte{
		ms.TokenizerJSON:      []byte(`{"model":{"type":"WordPiece"}}`),
		ms.TextConfigJSON:     []byte(`{"model_type":"distilbert"}`),
		ms.ModulesJSON:        []byte(`[{"idx":0},{"idx":1},{"idx":2}]`),
		ms.SentenceBertConfig: []byte(`{"max_seq_length":128}`),
		ms.PoolingConfigJSON:  []byte(`{"pooling_mode_mean_tokens":true}`),
		ms.DenseConfigJSON:    []byte(`{"in_features":768,"out_features":512}`),
		ms.DenseSafetensors:   blob(1, 4096),
		ms.TextONNXFP32:       blob(2, 300_000),
		ms.TextONNXInt8AVX2:   blob(3, 70_000),
		ms.TextONNXInt8AVX512: blob(4, 70_001),
		ms.TextONNXInt8VNNI:   blob(5, 70_002),
		ms.TextONNXInt8ARM64:  blob(6, 70_003),
		"onnx/model_O4.onnx":  blob(7, 100),
		"README.md":           []byte("# clip-ViT-B-32-multilingual-v1\n"),
	}
	vision := map[string][]byte{
		ms.VisionConfigJSON:    []byte(`{"model_type":"clip"}`),
		ms.PreprocessorConfig:  []byte(`{"crop_size":224}`),
		ms.VisionONNXFP32:      blob(8, 200_000),
		ms.VisionONNXQuantized: blob(9, 50_000),
		ms.VisionONNXFP16:      blob(10, 100_000),
	}
	return map[string]map[string][]byte{ms.TextRepo: text, ms.VisionRepo: vision}
}

type fixture struct {
	hub   *hubtest.Hub
	files map[string]map[string][]byte
	cache string
	log   *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	files := repos()
	hub := hubtest.New(files)
	t.Cleanup(hub.Close)
	return &fixture{hub: hub, files: files, cache: t.TempDir(), log: &bytes.Buffer{}}
}

func (f *fixture) opts(v ms.Variant) ms.Options {
	cpu := avx2
	return ms.Options{CacheDir: f.cache, Variant: v, Endpoint: f.hub.URL, CPU: &cpu, Log: f.log}
}

func (f *fixture) store(t *testing.T, o ms.Options) *ms.Store {
	t.Helper()
	s, err := ms.Open(o)
	require.NoError(t, err)
	return s
}

func (f *fixture) pull(t *testing.T, v ms.Variant) (*ms.Store, ms.PullResult) {
	t.Helper()
	s := f.store(t, f.opts(v))
	res, err := s.Pull(context.Background())
	require.NoError(t, err)
	return s, res
}

// leftovers lists the partial downloads under the cache.
func leftovers(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".incomplete") && !d.IsDir() {
			out = append(out, p)
		}
		return err
	}))
	return out
}

func TestPullClean(t *testing.T) {
	for _, tc := range []struct {
		variant    ms.Variant
		textGraph  string
		visionFile string
	}{
		{ms.VariantFP32, ms.TextONNXFP32, ms.VisionONNXFP32},
		{ms.VariantInt8, ms.TextONNXInt8AVX2, ms.VisionONNXQuantized},
		{ms.VariantAuto, ms.TextONNXInt8AVX2, ms.VisionONNXQuantized},
		{ms.VariantFP16, ms.TextONNXFP32, ms.VisionONNXFP16},
	} {
		t.Run(string(tc.variant), func(t *testing.T) {
			f := newFixture(t)
			s, res := f.pull(t, tc.variant)
			v, _ := s.Variant()
			assert.Len(t, res.Downloaded, len(ms.TextRequired)+len(ms.VisionRequired)+2)
			assert.Empty(t, res.Kept)
			assert.Equal(t, f.hub.Commit(ms.TextRepo), res.Commits[ms.TextRepo])

			dir := s.Dir()
			assert.Empty(t, dir.Missing(v))
			tg, err := dir.TextGraph(v)
			require.NoError(t, err)
			assert.Equal(t, dir.Text(tc.textGraph), tg)
			vg, err := dir.VisionGraph(v)
			require.NoError(t, err)
			assert.Equal(t, dir.Vision(tc.visionFile), vg)
			for _, file := range s.Manifest().Files {
				got, err := os.ReadFile(filepath.Join(dir.Root, filepath.FromSlash(file.Rel())))
				require.NoError(t, err)
				assert.True(t, bytes.Equal(f.files[file.Repo][file.Path], got), file.Rel())
			}
			assert.NoFileExists(t, dir.Text("README.md"), "only the manifest's files")
			assert.NoDirExists(t, filepath.Join(dir.Root, ".incomplete"))

			lock, err := ms.ReadLock(s.LockPath())
			require.NoError(t, err)
			require.Len(t, lock.Files, len(res.Downloaded))
			e, ok := lock.Entry("text/" + tc.textGraph)
			require.True(t, ok)
			assert.Equal(t, hubtest.SHA256(f.files[ms.TextRepo][tc.textGraph]), e.SHA256)
			assert.Equal(t, f.hub.Commit(ms.TextRepo), e.Commit)
			assert.Equal(t, "main", e.Revision)

			_, err = s.Verify(context.Background())
			require.NoError(t, err)

			// The first file of each repository resolves main; the others
			// are asked at that commit.
			var revs []string
			for _, r := range f.hub.Requests() {
				if r.Server == "hub" && r.Method == http.MethodHead && strings.HasPrefix(r.Path, "/"+ms.TextRepo+"/") {
					revs = append(revs, strings.SplitN(strings.TrimPrefix(r.Path, "/"+ms.TextRepo+"/resolve/"), "/", 2)[0])
				}
			}
			require.Len(t, revs, len(ms.TextRequired)+1)
			assert.Equal(t, "main", revs[0])
			for _, r := range revs[1:] {
				assert.Equal(t, f.hub.Commit(ms.TextRepo), r)
			}

			// A second pull asks the hub and downloads nothing.
			_, again := f.pull(t, tc.variant)
			assert.Empty(t, again.Downloaded)
			assert.Len(t, again.Kept, len(res.Downloaded))
		})
	}
}

func TestPullResumes(t *testing.T) {
	graph := repos()[ms.TextRepo][ms.TextONNXFP32]
	t.Run("cut connection, same pull", func(t *testing.T) {
		f := newFixture(t)
		f.hub.CutAfter(graph, 123_456)
		s, _ := f.pull(t, ms.VariantFP32)
		got, err := os.ReadFile(s.Dir().Text(ms.TextONNXFP32))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(graph, got))
		assert.Equal(t, []string{"", "bytes=123456-"}, cdnRanges(f.hub, graph))
		assert.Contains(t, f.log.String(), "resuming")
	})
	t.Run("stalled connection, same pull", func(t *testing.T) {
		f := newFixture(t)
		defer ms.SetStallTimeout(time.Second)()
		f.hub.StallAfter(graph, 50_000)
		s, _ := f.pull(t, ms.VariantFP32)
		got, err := os.ReadFile(s.Dir().Text(ms.TextONNXFP32))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(graph, got))
		// On a loaded machine a healthy request may also pass for stalled:
		// the first two requests are what matters.
		ranges := cdnRanges(f.hub, graph)
		require.GreaterOrEqual(t, len(ranges), 2)
		assert.Equal(t, []string{"", "bytes=50000-"}, ranges[:2])
		assert.Contains(t, f.log.String(), "no data received")
	})
	t.Run("partial file of an earlier run", func(t *testing.T) {
		f := newFixture(t)
		s := f.store(t, f.opts(ms.VariantFP32))
		part := filepath.Join(s.Dir().Root, ".incomplete", hubtest.SHA256(graph)+".incomplete")
		require.NoError(t, os.MkdirAll(filepath.Dir(part), 0o755))
		require.NoError(t, os.WriteFile(part, graph[:200_000], 0o644))
		_, err := s.Pull(context.Background())
		require.NoError(t, err)
		got, err := os.ReadFile(s.Dir().Text(ms.TextONNXFP32))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(graph, got))
		assert.Equal(t, []string{"bytes=200000-"}, cdnRanges(f.hub, graph))
		assert.NoFileExists(t, part)
	})
	t.Run("partial file of other content is not trusted", func(t *testing.T) {
		f := newFixture(t)
		s := f.store(t, f.opts(ms.VariantFP32))
		part := filepath.Join(s.Dir().Root, ".incomplete", hubtest.SHA256(graph)+".incomplete")
		require.NoError(t, os.MkdirAll(filepath.Dir(part), 0o755))
		require.NoError(t, os.WriteFile(part, bytes.Repeat([]byte{7}, 1000), 0o644))
		_, err := s.Pull(context.Background())
		require.ErrorIs(t, err, ms.ErrCorrupt)
		assert.NoFileExists(t, s.Dir().Text(ms.TextONNXFP32))
		assert.Empty(t, leftovers(t, f.cache))
		// The next pull starts from zero and succeeds.
		_, err = s.Pull(context.Background())
		require.NoError(t, err)
	})
}

func cdnRanges(hub *hubtest.Hub, content []byte) []string {
	var out []string
	for _, r := range hub.Requests() {
		if r.Server == "cdn" && r.Method == http.MethodGet && strings.HasSuffix(r.Path, hubtest.SHA256(content)) {
			out = append(out, r.Range)
		}
	}
	return out
}

func TestPullRejectsCorruptDownload(t *testing.T) {
	f := newFixture(t)
	graph := f.files[ms.VisionRepo][ms.VisionONNXFP32]
	f.hub.Corrupt(graph)
	s := f.store(t, f.opts(ms.VariantFP32))
	_, err := s.Pull(context.Background())
	require.ErrorIs(t, err, ms.ErrCorrupt)
	assert.ErrorContains(t, err, "vision/onnx/vision_model.onnx")
	assert.ErrorContains(t, err, hubtest.SHA256(graph))
	assert.NoFileExists(t, s.Dir().Vision(ms.VisionONNXFP32))
	assert.Empty(t, leftovers(t, f.cache))
	lock, err := ms.ReadLock(s.LockPath())
	require.NoError(t, err)
	_, pinned := lock.Entry("vision/" + ms.VisionONNXFP32)
	assert.False(t, pinned)
}

func TestPullHubErrors(t *testing.T) {
	const token = "hf_SeCrEtToKeN123"
	for _, tc := range []struct {
		name    string
		setup   func(*hubtest.Hub)
		opts    func(*ms.Options)
		is      error
		status  int
		code    string
		mention []string
	}{
		{
			name: "gated, no token", setup: func(h *hubtest.Hub) { h.Gate(ms.TextRepo, token) },
			is: ms.ErrAccess, status: 401, code: "GatedRepo", mention: []string{"HF_TOKEN", ms.TextRepo, "text/tokenizer.json"},
		},
		{
			name: "gated, token without access", setup: func(h *hubtest.Hub) { h.Gate(ms.TextRepo, token) },
			opts: func(o *ms.Options) { o.Token = "hf_other" },
			is:   ms.ErrAccess, status: 403, code: "GatedRepo", mention: []string{"HF_TOKEN", "gated"},
		},
		{
			name: "missing file", setup: func(h *hubtest.Hub) { h.RemoveFile(ms.VisionRepo, ms.PreprocessorConfig) },
			is: ms.ErrNotFound, status: 404, code: "EntryNotFound", mention: []string{"vision/preprocessor_config.json", ms.VisionRepo},
		},
		{
			name: "missing revision", opts: func(o *ms.Options) { o.Revisions.Vision = "v9.9" },
			is: ms.ErrNotFound, status: 404, code: "RevisionNotFound", mention: []string{"revision"},
		},
		{
			name: "missing repository", opts: func(o *ms.Options) {
				o.Manifest = &ms.Manifest{Variant: ms.VariantFP32, Files: []ms.File{{Source: ms.Source{Repo: "nobody/nothing", Revision: "main", Tower: ms.TextDir}, Path: "config.json"}}}
			},
			is: ms.ErrAccess, status: 401, code: "RepoNotFound", mention: []string{"nobody/nothing", "private"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.setup != nil {
				tc.setup(f.hub)
			}
			o := f.opts(ms.VariantFP32)
			if tc.opts != nil {
				tc.opts(&o)
			}
			_, err := f.store(t, o).Pull(context.Background())
			require.ErrorIs(t, err, tc.is)
			var he *ms.HubError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, tc.status, he.Status)
			assert.Equal(t, tc.code, he.Code)
			for _, m := range tc.mention {
				assert.ErrorContains(t, err, m)
			}
			assert.NotContains(t, err.Error(), token)
			assert.NotContains(t, f.log.String(), token)
		})
	}
}

func TestPullGatedWithToken(t *testing.T) {
	const token = "hf_SeCrEtToKeN123"
	f := newFixture(t)
	f.hub.Gate(ms.TextRepo, token)
	o := f.opts(ms.VariantFP32)
	o.Token = token
	_, err := f.store(t, o).Pull(context.Background())
	require.NoError(t, err)
	var hubAuth, cdn int
	for _, r := range f.hub.Requests() {
		switch r.Server {
		case "hub":
			assert.Equal(t, "Bearer "+token, r.Authorization, r.Path)
			hubAuth++
		case "cdn":
			assert.Empty(t, r.Authorization, "the token must not reach the CDN: %s", r.Path)
			cdn++
		}
	}
	assert.Positive(t, hubAuth)
	assert.Positive(t, cdn)
	assert.NotContains(t, f.log.String(), token)
}

func TestTokenRedacted(t *testing.T) {
	// A mirror whose URL carries the token in its path: errors name the URL.
	const token = "hf_InPaThToKeN"
	f := newFixture(t)
	o := f.opts(ms.VariantFP32)
	o.Token = token
	o.Endpoint = "http://127.0.0.1:1/" + token
	_, err := f.store(t, o).Pull(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, ms.ErrNetwork)
	assert.NotContains(t, err.Error(), token)
	assert.Contains(t, err.Error(), "[HF_TOKEN]")
	assert.NotContains(t, f.log.String(), token)
}

func TestPullChangedUpstream(t *testing.T) {
	for _, tc := range []struct {
		name, repo, path string
		data             []byte
	}{
		{"regular file", ms.TextRepo, ms.TextConfigJSON, []byte(`{"model_type":"distilbert","dim":768}`)},
		{"lfs file", ms.VisionRepo, ms.VisionONNXFP32, blob(99, 200_000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			s, _ := f.pull(t, ms.VariantFP32)
			old := f.files[tc.repo][tc.path]
			oldCommit := f.hub.Commit(tc.repo)
			f.hub.SetFile(tc.repo, tc.path, tc.data)
			rel := map[string]string{ms.TextRepo: "text/", ms.VisionRepo: "vision/"}[tc.repo] + tc.path

			_, err := s.Pull(context.Background())
			require.ErrorIs(t, err, ms.ErrChanged)
			var ce *ms.ChangedError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, rel, ce.File)
			for _, m := range []string{rel, hubtest.SHA256(old), hubtest.SHA256(tc.data), oldCommit, f.hub.Commit(tc.repo), "--update"} {
				assert.ErrorContains(t, err, m)
			}
			got, err := os.ReadFile(filepath.Join(s.Dir().Root, filepath.FromSlash(rel)))
			require.NoError(t, err)
			assert.True(t, bytes.Equal(old, got), "the pinned file stays")
			assert.Empty(t, leftovers(t, f.cache))
			_, err = s.Verify(context.Background())
			require.NoError(t, err, "the cache still matches its lock")

			o := f.opts(ms.VariantFP32)
			o.Update = true
			res, err := f.store(t, o).Pull(context.Background())
			require.NoError(t, err)
			assert.Equal(t, []string{rel}, res.Downloaded)
			got, err = os.ReadFile(filepath.Join(s.Dir().Root, filepath.FromSlash(rel)))
			require.NoError(t, err)
			assert.True(t, bytes.Equal(tc.data, got))
			lock, err := ms.ReadLock(s.LockPath())
			require.NoError(t, err)
			e, _ := lock.Entry(rel)
			assert.Equal(t, hubtest.SHA256(tc.data), e.SHA256)
			assert.Equal(t, f.hub.Commit(tc.repo), e.Commit)
		})
	}
}

func TestPullWithUserLockFile(t *testing.T) {
	// A lock committed elsewhere pins a fresh cache: a changed upstream file
	// is refused before it lands.
	f := newFixture(t)
	lockPath := filepath.Join(t.TempDir(), "models.lock")
	o := f.opts(ms.VariantFP32)
	o.LockFile = lockPath
	_, err := f.store(t, o).Pull(context.Background())
	require.NoError(t, err)
	require.FileExists(t, lockPath)

	f.hub.SetFile(ms.TextRepo, ms.TokenizerJSON, []byte(`{"changed":true}`))
	o.CacheDir = t.TempDir()
	s := f.store(t, o)
	_, err = s.Pull(context.Background())
	require.ErrorIs(t, err, ms.ErrChanged)
	assert.ErrorContains(t, err, lockPath)
	assert.NoFileExists(t, s.Dir().Text(ms.TokenizerJSON))
}

func TestOffline(t *testing.T) {
	for _, tc := range []struct {
		name     string
		complete bool
		cut      func(f *fixture, o *ms.Options) // how the network is gone
	}{
		{"HF_HUB_OFFLINE, full cache", true, func(f *fixture, o *ms.Options) { o.Offline = true }},
		{"HF_HUB_OFFLINE, partial cache", false, func(f *fixture, o *ms.Options) { o.Offline = true }},
		{"hub unreachable, full cache", true, func(f *fixture, o *ms.Options) { f.hub.Close() }},
		{"hub unreachable, partial cache", false, func(f *fixture, o *ms.Options) { f.hub.Close() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			s, _ := f.pull(t, ms.VariantInt8)
			if !tc.complete {
				require.NoError(t, os.Remove(s.Dir().Vision(ms.VisionONNXQuantized)))
			}
			o := f.opts(ms.VariantInt8)
			tc.cut(f, &o)
			before := len(f.hub.Requests())
			res, err := f.store(t, o).Pull(context.Background())
			if o.Offline {
				assert.Len(t, f.hub.Requests(), before, "offline: no request")
			}
			if tc.complete {
				require.NoError(t, err)
				assert.True(t, res.Offline)
				dir, err := ms.Resolve(context.Background(), o)
				require.NoError(t, err)
				assert.Equal(t, s.Dir(), dir)
				return
			}
			require.ErrorIs(t, err, ms.ErrIncomplete)
			assert.ErrorContains(t, err, "vision/onnx/vision_model_quantized.onnx")
			assert.ErrorContains(t, err, "mclip models pull --variant int8")
			if !o.Offline {
				assert.ErrorIs(t, err, ms.ErrNetwork)
			} else {
				assert.ErrorContains(t, err, "HF_HUB_OFFLINE")
			}
			o.AllowPull = true
			_, err = ms.Resolve(context.Background(), o)
			require.ErrorIs(t, err, ms.ErrIncomplete)
		})
	}
}

func TestConcurrentPulls(t *testing.T) {
	f := newFixture(t)
	const n = 3
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := f.opts(ms.VariantFP32)
			o.Log = nil
			s, err := ms.Open(o)
			if err == nil {
				_, err = s.Pull(context.Background())
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	for _, c := range []struct{ repo, path string }{
		{ms.TextRepo, ms.TextONNXFP32}, {ms.VisionRepo, ms.VisionONNXFP32}, {ms.TextRepo, ms.TokenizerJSON},
	} {
		assert.Equal(t, 1, f.hub.Downloads(f.files[c.repo][c.path]), c.path)
	}
	s := f.store(t, f.opts(ms.VariantFP32))
	_, err := s.Verify(context.Background())
	require.NoError(t, err)
}

func TestVerifyFindsModifiedFiles(t *testing.T) {
	f := newFixture(t)
	s, _ := f.pull(t, ms.VariantFP32)
	p := s.Dir().Text(ms.TextONNXFP32)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	b[10] ^= 1
	require.NoError(t, os.WriteFile(p, b, 0o644))
	require.NoError(t, os.Remove(s.Dir().Vision(ms.PreprocessorConfig)))

	sts, err := s.Verify(context.Background())
	require.ErrorIs(t, err, ms.ErrVerify)
	assert.ErrorContains(t, err, "text/onnx/model.onnx: sha256 "+hubtest.SHA256(b)+", the lock pins "+hubtest.SHA256(f.files[ms.TextRepo][ms.TextONNXFP32]))
	assert.ErrorContains(t, err, "vision/preprocessor_config.json: missing")
	states := map[string]ms.State{}
	for _, st := range sts {
		states[st.Rel()] = st.State
	}
	assert.Equal(t, ms.StateModified, states["text/onnx/model.onnx"])
	assert.Equal(t, ms.StateMissing, states["vision/preprocessor_config.json"])
	assert.Equal(t, ms.StateOK, states["text/tokenizer.json"])

	// A pull repairs both.
	res, err := s.Pull(context.Background())
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"text/onnx/model.onnx", "vision/preprocessor_config.json"}, res.Downloaded)
	_, err = s.Verify(context.Background())
	require.NoError(t, err)
}

func TestResolve(t *testing.T) {
	t.Run("local MODEL_DIR, no network", func(t *testing.T) {
		f := newFixture(t)
		src, _ := f.pull(t, ms.VariantFP32)
		before := len(f.hub.Requests())
		o := f.opts(ms.VariantFP32)
		o.ModelDir = src.Dir().Root
		o.AllowPull = true
		dir, err := ms.Resolve(context.Background(), o)
		require.NoError(t, err)
		assert.Equal(t, src.Dir(), dir)
		assert.Len(t, f.hub.Requests(), before)

		o.Variant = ms.VariantFP16 // the fp16 vision graph is not there
		_, err = ms.Resolve(context.Background(), o)
		require.ErrorIs(t, err, ms.ErrIncomplete)
		assert.ErrorContains(t, err, "vision/onnx/vision_model_fp16.onnx")
		assert.ErrorContains(t, err, config.EnvModelDir)
		assert.Len(t, f.hub.Requests(), before)
	})
	t.Run("local MODEL_DIR verified with or without a lock", func(t *testing.T) {
		f := newFixture(t)
		src, _ := f.pull(t, ms.VariantFP32)
		o := f.opts(ms.VariantFP32)
		o.ModelDir = src.Dir().Root
		sts, err := f.store(t, o).Verify(context.Background())
		require.NoError(t, err)
		assert.Equal(t, ms.StateOK, sts[0].State)

		require.NoError(t, os.Remove(src.LockPath()))
		sts, err = f.store(t, o).Verify(context.Background())
		require.NoError(t, err, "no lock: presence only")
		assert.Equal(t, ms.StateUnpinned, sts[0].State)
		assert.Equal(t, hubtest.SHA256(f.files[ms.TextRepo][ms.TokenizerJSON]), sts[0].SHA256)

		require.NoError(t, os.Remove(src.Dir().Text(ms.TokenizerJSON)))
		_, err = f.store(t, o).Verify(context.Background())
		require.ErrorIs(t, err, ms.ErrVerify)
		assert.ErrorContains(t, err, "text/tokenizer.json: missing")
	})
	t.Run("empty cache, pull allowed", func(t *testing.T) {
		f := newFixture(t)
		o := f.opts(ms.VariantFP32)
		o.AllowPull = true
		o.VerifyHashes = true
		dir, err := ms.Resolve(context.Background(), o)
		require.NoError(t, err)
		assert.Empty(t, dir.Missing(ms.VariantFP32))
	})
	t.Run("empty cache, pull not allowed", func(t *testing.T) {
		f := newFixture(t)
		_, err := ms.Resolve(context.Background(), f.opts(ms.VariantFP32))
		require.ErrorIs(t, err, ms.ErrIncomplete)
		assert.ErrorContains(t, err, "mclip models pull --variant fp32")
		assert.Empty(t, f.hub.Requests())
	})
	t.Run("complete cache: no network at start-up", func(t *testing.T) {
		f := newFixture(t)
		f.pull(t, ms.VariantFP32)
		before := len(f.hub.Requests())
		o := f.opts(ms.VariantFP32)
		o.AllowPull = true
		_, err := ms.Resolve(context.Background(), o)
		require.NoError(t, err)
		assert.Len(t, f.hub.Requests(), before)
	})
	t.Run("file changed on disk", func(t *testing.T) {
		f := newFixture(t)
		s, _ := f.pull(t, ms.VariantFP32)
		require.NoError(t, os.WriteFile(s.Dir().Text(ms.TokenizerJSON), []byte(`{}`), 0o644))
		_, err := ms.Resolve(context.Background(), f.opts(ms.VariantFP32))
		require.ErrorIs(t, err, ms.ErrIncomplete)
		assert.ErrorContains(t, err, "text/tokenizer.json")
		// Same size, other bytes: only hashing sees it.
		b := append([]byte(nil), f.files[ms.TextRepo][ms.TokenizerJSON]...)
		b[0] = ' '
		require.NoError(t, os.WriteFile(s.Dir().Text(ms.TokenizerJSON), b, 0o644))
		o := f.opts(ms.VariantFP32)
		_, err = ms.Resolve(context.Background(), o)
		require.NoError(t, err)
		o.VerifyHashes = true
		_, err = ms.Resolve(context.Background(), o)
		require.ErrorIs(t, err, ms.ErrVerify)
	})
}

func TestPathTraversalRejected(t *testing.T) {
	t.Run("manifest", func(t *testing.T) {
		for _, p := range []string{"../../evil", "/etc/passwd", "onnx/../../x", "a//b", "./a", `onnx\..\x`, "C:/x"} {
			f := newFixture(t)
			o := f.opts(ms.VariantFP32)
			o.Manifest = &ms.Manifest{Variant: ms.VariantFP32, Files: []ms.File{{Source: ms.Source{Repo: ms.TextRepo, Revision: "main", Tower: ms.TextDir}, Path: p}}}
			_, err := ms.Open(o)
			require.Error(t, err, p)
			assert.ErrorContains(t, err, "manifest")
		}
		for _, src := range []ms.Source{
			{Repo: ms.TextRepo, Revision: "main", Tower: ".."},
			{Repo: "../x", Revision: "main", Tower: ms.TextDir},
			{Repo: ms.TextRepo, Revision: "../../x", Tower: ms.TextDir},
		} {
			m := ms.Manifest{Files: []ms.File{{Source: src, Path: "config.json"}}}
			assert.Error(t, m.Validate(), "%+v", src)
		}
	})
	t.Run("lock file", func(t *testing.T) {
		f := newFixture(t)
		lockPath := filepath.Join(t.TempDir(), "models.lock")
		sum := hubtest.SHA256(nil)
		for _, p := range []string{"../outside", "text/../../outside", "/abs/path", "models/x"} {
			require.NoError(t, os.WriteFile(lockPath, []byte(fmt.Sprintf(
				`{"version":1,"files":[{"path":%q,"repo":%q,"revision":"main","commit":"c","size":0,"etag":"e","sha256":%q}]}`,
				p, ms.TextRepo, sum)), 0o644))
			_, err := ms.ReadLock(lockPath)
			require.Error(t, err, p)
			o := f.opts(ms.VariantFP32)
			o.LockFile = lockPath
			_, err = f.store(t, o).Pull(context.Background())
			require.Error(t, err, p)
			assert.ErrorContains(t, err, "lock file")
		}
		assert.Empty(t, f.hub.Requests(), "rejected before any download")
	})
}

func TestEndpointScheme(t *testing.T) {
	for _, tc := range []struct {
		endpoint string
		ok       bool
	}{
		{"http://example.com", false},
		{"ftp://127.0.0.1", false},
		{"http://10.0.0.1:8080", false},
		{"not a url", false},
		{"http://localhost:1", true}, // loopback: refused connection, not scheme
		{"http://[::1]:1", true},
	} {
		t.Run(tc.endpoint, func(t *testing.T) {
			f := newFixture(t)
			o := f.opts(ms.VariantFP32)
			o.Endpoint = tc.endpoint
			_, err := f.store(t, o).Pull(context.Background())
			require.Error(t, err)
			if tc.ok {
				assert.True(t, errors.Is(err, ms.ErrNetwork), "%v", err)
			} else {
				assert.False(t, errors.Is(err, ms.ErrNetwork), "%v", err)
				assert.ErrorContains(t, err, "hub endpoint")
			}
		})
	}
}
