package modelstore

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResolveVariantAndInt8Graph(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cpu   CPU
		in    Variant
		want  Variant
		graph string
	}{
		{"vnni", CPU{Arch: "amd64", AVX2: true, AVX512: true, AVX512VNNI: true}, VariantAuto, VariantInt8, TextONNXInt8VNNI},
		{"avx512", CPU{Arch: "amd64", AVX2: true, AVX512: true}, VariantAuto, VariantInt8, TextONNXInt8AVX512},
		{"avx2", CPU{Arch: "amd64", AVX2: true}, VariantAuto, VariantInt8, TextONNXInt8AVX2},
		{"arm64", CPU{Arch: "arm64"}, VariantAuto, VariantInt8, TextONNXInt8ARM64},
		{"old x86", CPU{Arch: "amd64"}, VariantAuto, VariantFP32, TextONNXFP32},
		{"old x86, int8 asked", CPU{Arch: "amd64"}, VariantInt8, VariantInt8, TextONNXInt8AVX2},
		{"vnni, fp32 asked", CPU{Arch: "amd64", AVX512VNNI: true}, VariantFP32, VariantFP32, TextONNXFP32},
		{"fp16", CPU{Arch: "amd64", AVX2: true}, VariantFP16, VariantFP16, TextONNXFP32},
		{"empty is fp32", CPU{Arch: "amd64", AVX2: true}, "", VariantFP32, TextONNXFP32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ManifestFor(tc.in, tc.cpu, Revisions{})
			require.NoError(t, err)
			assert.Equal(t, tc.want, m.Variant)
			assert.Contains(t, m.Rels(), TextDir+"/"+tc.graph)
			assert.Len(t, m.Files, len(TextRequired)+len(VisionRequired)+2)
			assert.Equal(t, "main", m.key())
		})
	}
	_, err := ManifestFor("int4", CPU{}, Revisions{})
	assert.ErrorContains(t, err, "int4")
}

func TestManifestRevisionsAndKey(t *testing.T) {
	m, err := ManifestFor(VariantFP32, CPU{}, Revisions{Text: "refs/pr/3", Vision: "0123abc"})
	require.NoError(t, err)
	assert.Equal(t, "refs-pr-3_0123abc", m.key())
	for _, f := range m.Files {
		want := map[string]string{TextDir: "refs/pr/3", VisionDir: "0123abc"}[f.Tower]
		assert.Equal(t, want, f.Revision, f.Rel())
	}
}

func TestCheckRelPath(t *testing.T) {
	for _, p := range []string{"config.json", "onnx/model.onnx", "1_Pooling/config.json", "a.b/c..d"} {
		assert.NoError(t, CheckRelPath(p), p)
	}
	for _, p := range []string{"", "/etc/passwd", "../x", "a/../b", "a/./b", "./a", "a/", "a//b", `a\b`, "C:/x", "a\x00b", ".."} {
		assert.Error(t, CheckRelPath(p), p)
	}
}

func TestReadLockRejects(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	entry := func(path, sha string) string {
		return `{"path":"` + path + `","repo":"` + TextRepo + `","revision":"main","commit":"c","size":1,"etag":"e","sha256":"` + sha + `"}`
	}
	for _, tc := range []struct{ name, body, want string }{
		{"not json", "{", "lock file"},
		{"version", `{"version":2,"files":[]}`, "version 2"},
		{"traversal", `{"version":1,"files":[` + entry("text/../../x", sum) + `]}`, "elements"},
		{"absolute", `{"version":1,"files":[` + entry("/x", sum) + `]}`, "relative"},
		{"other tower", `{"version":1,"files":[` + entry("audio/x", sum) + `]}`, "not under"},
		{"bad hash", `{"version":1,"files":[` + entry("text/x", "XYZ") + `]}`, "sha256"},
		{"twice", `{"version":1,"files":[` + entry("text/x", sum) + `,` + entry("text/x", sum) + `]}`, "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "lock")
			require.NoError(t, os.WriteFile(p, []byte(tc.body), 0o644))
			_, err := ReadLock(p)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	t.Run("round trip", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "sub", "lock")
		l := &Lock{}
		l.Set(LockEntry{Path: "vision/config.json", Repo: VisionRepo, Revision: "main", Commit: "c", Size: 3, ETag: "e", SHA256: sum})
		l.Set(LockEntry{Path: "text/config.json", Repo: TextRepo, Revision: "main", Commit: "c", Size: 2, ETag: "e", SHA256: sum})
		l.Set(LockEntry{Path: "text/config.json", Repo: TextRepo, Revision: "main", Commit: "d", Size: 2, ETag: "e", SHA256: sum})
		require.NoError(t, WriteLock(p, l))
		got, err := ReadLock(p)
		require.NoError(t, err)
		require.Len(t, got.Files, 2)
		assert.Equal(t, "text/config.json", got.Files[0].Path)
		assert.Equal(t, "d", got.Files[0].Commit)
		missing, err := ReadLock(filepath.Join(t.TempDir(), "none"))
		require.NoError(t, err)
		assert.Empty(t, missing.Files)
	})
}

func TestHeadFollowsRenamedRepoKeepsCDNAway(t *testing.T) {
	const sum = "3d2a0c1b6f9e8d7c6b5a49382716051423324150617283940a1b2c3d4e5f6a7b"
	var seen []string
	cdn := httptest.NewServer(http.NotFoundHandler())
	defer cdn.Close()
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		switch {
		case strings.HasPrefix(r.URL.Path, "/old/name/"):
			w.Header().Set("Location", strings.Replace(r.URL.Path, "/old/name/", "/new/name/", 1))
			w.WriteHeader(http.StatusTemporaryRedirect)
		default:
			w.Header().Set("X-Repo-Commit", strings.Repeat("c", 40))
			w.Header().Set("X-Linked-Etag", `"`+sum+`"`)
			w.Header().Set("X-Linked-Size", "1234")
			w.Header().Set("ETag", `W/"pointer"`)
			w.Header().Set("Location", cdn.URL+"/blob/"+sum)
			w.WriteHeader(http.StatusFound)
		}
	}))
	defer hub.Close()
	c, err := newHubClient(hub.URL, "tok", nil)
	require.NoError(t, err)
	f := File{Source: Source{Repo: "old/name", Revision: "main", Tower: TextDir}, Path: "onnx/model.onnx"}
	meta, err := c.head(context.Background(), f)
	require.NoError(t, err)
	assert.Equal(t, remoteFile{Commit: strings.Repeat("c", 40), ETag: sum, LFS: true, Size: 1234, Location: cdn.URL + "/blob/" + sum}, meta)
	assert.Equal(t, []string{
		"HEAD /old/name/resolve/main/onnx/model.onnx Bearer tok",
		"HEAD /new/name/resolve/main/onnx/model.onnx Bearer tok",
	}, seen)
}

func TestHeadRejectsWhatCannotBeVerified(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"no commit", map[string]string{"ETag": `"` + strings.Repeat("a", 40) + `"`}, "X-Repo-Commit"},
		{"no etag", map[string]string{"X-Repo-Commit": "c"}, "ETag"},
		{"etag not a git sha1", map[string]string{"X-Repo-Commit": "c", "ETag": `"xyz"`}, "git blob sha1"},
		{"lfs etag not a sha256", map[string]string{"X-Repo-Commit": "c", "X-Linked-Etag": `"abc"`, "X-Linked-Size": "3"}, "not a sha256"},
		{"no size", map[string]string{"X-Repo-Commit": "c", "ETag": `"` + strings.Repeat("a", 40) + `"`}, "size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.headers {
					w.Header().Set(k, v)
				}
			}))
			defer srv.Close()
			c, err := newHubClient(srv.URL, "", nil)
			require.NoError(t, err)
			_, err = c.head(context.Background(), File{Source: Source{Repo: "a/b", Revision: "main", Tower: TextDir}, Path: "config.json"})
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestContentRangeStart(t *testing.T) {
	for h, want := range map[string]int64{"bytes 100-199/200": 100, "bytes 0-0/1": 0, "bytes */200": -1, "": -1, "items 1-2/3": -1} {
		assert.Equal(t, want, contentRangeStart(h), h)
	}
}

func TestProgressLines(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	l := &lines{w: &buf, now: func() time.Time { return now }, every: 10 * time.Second}
	l.start("text/onnx/model.onnx", 100_000_000, 20_000_000)
	now = now.Add(5 * time.Second)
	l.add(10_000_000) // under 10s: no line
	now = now.Add(5 * time.Second)
	l.add(10_000_000)
	now = now.Add(20 * time.Second)
	l.add(60_000_000)
	l.finish(nil)
	assert.Equal(t, "downloading text/onnx/model.onnx (100.0 MB), resuming at 20.0 MB\n"+
		"  text/onnx/model.onnx: 40.0 MB/100.0 MB, 2.0 MB/s, ETA 30s\n"+
		"  text/onnx/model.onnx: done, 100.0 MB in 30s (2.7 MB/s)\n", buf.String())
}

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	b := &bar{w: &buf, width: 80, now: func() time.Time { return now }}
	b.start("vision/config.json", 1000, 0)
	now = now.Add(time.Second)
	b.add(500)
	b.add(100) // within 100ms of the last draw: not drawn
	b.finish(nil)
	out := buf.String()
	assert.Equal(t, 3, strings.Count(out, "\r"), "start, one update, finish")
	assert.Contains(t, out, "500 B/1.0 kB 500 B/s ETA 1s")
	assert.Contains(t, out, "600 B/1.0 kB")
	assert.True(t, strings.HasSuffix(out, "\x1b[K\n"))
	// Not a terminal: plain lines.
	_, isLines := newProgress(&buf).(*lines)
	assert.True(t, isLines)
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 539_000_000: "539.0 MB", 2_500_000_000: "2.5 GB"} {
		assert.Equal(t, want, humanBytes(n))
	}
}
