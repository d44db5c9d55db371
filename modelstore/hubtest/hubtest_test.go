package hubtest

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/modelstore"
)

func TestFromModelDir(t *testing.T) {
	root := t.TempDir()
	for p, body := range map[string]string{
		"text/config.json": "{}", "text/onnx/model.onnx": "graph", "vision/onnx/vision_model.onnx": "vgraph",
	} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, p), []byte(body), 0o644))
	}
	repos, err := FromModelDir(root)
	require.NoError(t, err)
	assert.Equal(t, map[string]map[string][]byte{
		modelstore.TextRepo:   {"config.json": []byte("{}"), "onnx/model.onnx": []byte("graph")},
		modelstore.VisionRepo: {"onnx/vision_model.onnx": []byte("vgraph")},
	}, repos)
	_, err = FromModelDir(filepath.Join(root, "none"))
	assert.Error(t, err)
}

func TestHubHeaders(t *testing.T) {
	h := New(map[string]map[string][]byte{"o/r": {"config.json": []byte("{}"), "m.onnx": []byte("weights")}})
	defer h.Close()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		path    string
		status  int
		headers map[string]string
	}{
		{"/o/r/resolve/main/config.json", 200, map[string]string{"ETag": `"` + GitSHA1([]byte("{}")) + `"`, "X-Repo-Commit": h.Commit("o/r"), "Content-Length": "2"}},
		{"/o/r/resolve/main/m.onnx", 302, map[string]string{"X-Linked-Etag": `"` + SHA256([]byte("weights")) + `"`, "X-Linked-Size": "7", "X-Repo-Commit": h.Commit("o/r")}},
		{"/o/r/resolve/" + h.Commit("o/r") + "/config.json", 200, map[string]string{"X-Repo-Commit": h.Commit("o/r")}},
		{"/o/r/resolve/main/none.json", 404, map[string]string{"X-Error-Code": "EntryNotFound"}},
		{"/o/r/resolve/v2/config.json", 404, map[string]string{"X-Error-Code": "RevisionNotFound"}},
		{"/o/x/resolve/main/config.json", 401, map[string]string{"X-Error-Code": "RepoNotFound"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := c.Head(h.URL + tc.path)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tc.status, resp.StatusCode)
			for k, v := range tc.headers {
				assert.Equal(t, v, resp.Header.Get(k), k)
			}
		})
	}
	resp, err := c.Head(h.URL + "/o/r/resolve/main/m.onnx")
	require.NoError(t, err)
	resp.Body.Close()
	cdn, err := http.Get(resp.Header.Get("Location"))
	require.NoError(t, err)
	defer cdn.Body.Close()
	assert.Equal(t, 200, cdn.StatusCode)
	assert.Equal(t, 1, h.Downloads([]byte("weights")))
}
