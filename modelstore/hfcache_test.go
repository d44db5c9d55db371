package modelstore_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ms "github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/modelstore/hubtest"
)

// hfCache writes a Hugging Face cache of repos' files (by repository, the
// paths to include; nil means all) at commit (empty: the hub's main),
// refs/main pointing to it unless noRef. It returns the blob of every
// MODEL_DIR-relative path written.
func (f *fixture) hfCache(t *testing.T, root, commit string, noRef bool, only map[string][]string) map[string]string {
	t.Helper()
	towers := map[string]string{ms.TextRepo: ms.TextDir, ms.VisionRepo: ms.VisionDir}
	blobs := map[string]string{}
	for repo, files := range f.files {
		paths, listed := only[repo]
		if only != nil && !listed {
			continue
		}
		sel := map[string][]byte{}
		for p, b := range files {
			sel[p] = b
		}
		if paths != nil {
			sel = map[string][]byte{}
			for _, p := range paths {
				sel[p] = files[p]
			}
		}
		c, ref := commit, "main"
		if c == "" {
			c = f.hub.Commit(repo)
		}
		if noRef {
			ref = ""
		}
		got, err := hubtest.WriteHFCache(root, repo, c, ref, sel)
		require.NoError(t, err)
		for p, b := range got {
			blobs[towers[repo]+"/"+p] = b
		}
	}
	return blobs
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	fa, err := os.Stat(a)
	require.NoError(t, err)
	fb, err := os.Stat(b)
	require.NoError(t, err)
	return os.SameFile(fa, fb)
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func TestPullFromHFCache(t *testing.T) {
	int8Text := []string{ms.TokenizerJSON, ms.TextConfigJSON, ms.ModulesJSON, ms.SentenceBertConfig,
		ms.PoolingConfigJSON, ms.DenseConfigJSON, ms.DenseSafetensors, ms.TextONNXInt8AVX2}
	for _, tc := range []struct {
		name   string
		commit string              // of the HF cache; empty: the hub's
		only   map[string][]string // nil: every file of both repositories
		prep   func(t *testing.T, f *fixture, blobs map[string]string) (restore func())
		// downloaded lists what comes from the hub; the rest comes from the
		// HF cache
		downloaded []string
		how        string
	}{
		{name: "complete", how: ms.HowHardLink},
		{name: "partial: the text repository only", only: map[string][]string{ms.TextRepo: nil},
			downloaded: []string{"vision/config.json", "vision/onnx/vision_model_quantized.onnx", "vision/preprocessor_config.json"},
			how:        ms.HowHardLink},
		{name: "partial: one file missing", only: map[string][]string{ms.TextRepo: int8Text[1:], ms.VisionRepo: nil},
			downloaded: []string{"text/tokenizer.json"}, how: ms.HowHardLink},
		{name: "corrupt blob is refused, then downloaded", how: ms.HowHardLink,
			prep: func(t *testing.T, f *fixture, blobs map[string]string) func() {
				require.NoError(t, os.WriteFile(blobs["text/onnx/model_quint8_avx2.onnx"], blob(99, 70_000), 0o644))
				return func() {}
			},
			downloaded: []string{"text/onnx/model_quint8_avx2.onnx"}},
		{name: "cached at an older commit: found by etag", commit: "0123456789abcdef0123456789abcdef01234567", how: ms.HowHardLink},
		{name: "no hard links: copied", how: ms.HowCopy,
			prep: func(*testing.T, *fixture, map[string]string) func() { return ms.FailHardLinks() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			hf := t.TempDir()
			blobs := f.hfCache(t, hf, tc.commit, false, tc.only)
			if tc.prep != nil {
				defer tc.prep(t, f, blobs)()
			}
			o := f.opts(ms.VariantInt8)
			o.HFCache = hf
			s := f.store(t, o)
			res, err := s.Pull(context.Background())
			require.NoError(t, err)

			rels := s.Manifest().Rels()
			var fromHF []string
			for _, r := range rels {
				if !contains(tc.downloaded, r) {
					fromHF = append(fromHF, r)
				}
			}
			assert.Equal(t, sorted(tc.downloaded), sorted(res.Downloaded))
			assert.Equal(t, sorted(fromHF), sorted(res.FromHFCache))
			assert.Equal(t, hf, res.HFCache)
			for _, file := range s.Manifest().Files {
				content := f.files[file.Repo][file.Path]
				got, err := os.ReadFile(s.Dir().Root + "/" + file.Rel())
				require.NoError(t, err)
				assert.Equal(t, content, got, file.Rel())
				want := 0
				if contains(tc.downloaded, file.Rel()) {
					want = 1
				}
				assert.Equal(t, want, f.hub.Downloads(content), "downloads of %s", file.Rel())
				if contains(fromHF, file.Rel()) {
					assert.Equal(t, tc.how == ms.HowHardLink, sameFile(t, s.Dir().Root+"/"+file.Rel(), blobs[file.Rel()]), file.Rel())
				}
			}
			_, err = s.Verify(context.Background())
			require.NoError(t, err, "the lock pins what was taken")
			assert.Empty(t, leftovers(t, s.Dir().Root))

			srcs, err := s.Sources()
			require.NoError(t, err)
			for _, src := range srcs {
				require.True(t, src.Present, src.Rel())
				if contains(fromHF, src.Rel()) {
					assert.Equal(t, ms.Origin{Source: ms.SourceHFCache, From: src.Origin.From, How: tc.how}, src.Origin, src.Rel())
					assert.Contains(t, src.Origin.From, hf)
				} else {
					assert.Equal(t, ms.Origin{Source: ms.SourceHub, From: f.hub.URL}, src.Origin, src.Rel())
				}
			}
			if tc.prep != nil && len(tc.downloaded) == 1 {
				assert.Contains(t, f.log.String(), "not the expected content")
				b, err := os.ReadFile(blobs[tc.downloaded[0]])
				require.NoError(t, err)
				assert.Equal(t, blob(99, 70_000), b, "the Hugging Face cache is never written")
			}

			again, err := f.store(t, o).Pull(context.Background())
			require.NoError(t, err)
			assert.Empty(t, again.Downloaded)
			assert.Empty(t, again.FromHFCache)
			assert.Len(t, again.Kept, len(rels))
		})
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestOfflineFromHFCache(t *testing.T) {
	for _, tc := range []struct {
		name    string
		only    map[string][]string
		noRef   bool
		pinned  bool // a lock file pins the hub's commits
		corrupt string
		startup bool // Resolve without AllowPull, hub reachable
		missing []string
	}{
		{name: "complete"},
		{name: "complete, at start-up without a pull", startup: true},
		{name: "partial", only: map[string][]string{ms.TextRepo: nil},
			missing: []string{"vision/config.json", "vision/onnx/vision_model_quantized.onnx", "vision/preprocessor_config.json"}},
		{name: "no Hugging Face cache", only: map[string][]string{},
			missing: []string{"text/tokenizer.json", "vision/config.json"}},
		{name: "corrupt blob", corrupt: "vision/onnx/vision_model_quantized.onnx",
			missing: []string{"vision/onnx/vision_model_quantized.onnx"}},
		{name: "no refs: the revision's commit is unknown", noRef: true,
			missing: []string{"text/tokenizer.json", "vision/config.json"}},
		{name: "no refs, the lock pins the commits", noRef: true, pinned: true},
		{name: "the lock pins a content the cache lacks", pinned: true, corrupt: "text/onnx/model_quint8_avx2.onnx",
			missing: []string{"text/onnx/model_quint8_avx2.onnx"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			hf := t.TempDir()
			blobs := f.hfCache(t, hf, "", tc.noRef, tc.only)
			if tc.corrupt != "" {
				require.NoError(t, os.WriteFile(blobs[tc.corrupt], []byte("not the model"), 0o644))
			}
			o := f.opts(ms.VariantInt8)
			o.HFCache = hf
			o.Offline = !tc.startup
			if tc.pinned {
				// Another machine's pull pinned the commits and sha256s.
				other := f.opts(ms.VariantInt8)
				other.CacheDir = t.TempDir()
				other.LockFile = filepath.Join(t.TempDir(), "project.lock")
				_, err := f.store(t, other).Pull(context.Background())
				require.NoError(t, err)
				o.LockFile = other.LockFile
			}
			before := len(f.hub.Requests())
			s := f.store(t, o)
			var (
				res ms.PullResult
				err error
			)
			if tc.startup {
				_, err = s.Resolve(context.Background())
			} else {
				res, err = s.Pull(context.Background())
			}
			assert.Len(t, f.hub.Requests(), before, "no request")
			if tc.missing != nil {
				require.ErrorIs(t, err, ms.ErrIncomplete)
				for _, m := range tc.missing {
					assert.ErrorContains(t, err, m)
				}
				if !tc.startup {
					assert.ErrorContains(t, err, "HF_HUB_OFFLINE is set, and the Hugging Face cache "+hf+" lacks them")
				}
				return
			}
			require.NoError(t, err)
			if !tc.startup {
				assert.True(t, res.Offline)
				assert.Equal(t, sorted(s.Manifest().Rels()), sorted(res.FromHFCache))
				assert.Empty(t, res.Kept)
				assert.Equal(t, f.hub.Commit(ms.TextRepo), res.Commits[ms.TextRepo])
			}
			sts, err := s.Verify(context.Background())
			require.NoError(t, err, "the lock pins what was taken")
			for _, st := range sts {
				assert.Equal(t, f.hub.Commit(st.Repo), st.Locked.Commit, st.Rel())
			}
			dir, err := ms.Resolve(context.Background(), o)
			require.NoError(t, err)
			assert.Empty(t, dir.Missing(ms.VariantInt8))

			// Online later: the hub agrees, nothing is fetched again.
			o.Offline = false
			res, err = f.store(t, o).Pull(context.Background())
			require.NoError(t, err)
			assert.Empty(t, res.Downloaded)
			assert.Len(t, res.Kept, len(s.Manifest().Files))
		})
	}
}

func TestSourcesNamesTheHFCacheForMissingFiles(t *testing.T) {
	f := newFixture(t)
	hf := t.TempDir()
	f.hfCache(t, hf, "", false, map[string][]string{ms.VisionRepo: nil})
	o := f.opts(ms.VariantInt8)
	o.HFCache = hf
	srcs, err := f.store(t, o).Sources()
	require.NoError(t, err)
	for _, src := range srcs {
		assert.False(t, src.Present, src.Rel())
		if src.Tower == ms.VisionDir {
			assert.Equal(t, filepath.Join(hf, "models--Xenova--clip-vit-base-patch32", "snapshots", f.hub.Commit(ms.VisionRepo), filepath.FromSlash(src.Path)), src.InHFCache)
		} else {
			assert.Empty(t, src.InHFCache, src.Rel())
		}
	}
	o.HFCache = ""
	srcs, err = f.store(t, o).Sources()
	require.NoError(t, err)
	for _, src := range srcs {
		assert.Empty(t, src.InHFCache, src.Rel())
	}
}
