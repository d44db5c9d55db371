// Package hubtest is a fake Hugging Face hub on 127.0.0.1 for tests: it
// answers {endpoint}/{owner}/{name}/resolve/{revision}/{path} the way the
// real hub does (see modelstore's hub client), with a CDN on a second
// server, and can gate a repository, change a file, cut a download or
// corrupt one.
package hubtest

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mclip-go/mclip/modelstore"
)

// Request is one request the hub or its CDN received.
type Request struct {
	Server        string // "hub" or "cdn"
	Method        string
	Path          string // unescaped URL path; a file the hub serves itself gets "#<sha256>" appended
	Range         string
	Authorization string
	Status        int
}

// Hub is the fake hub. URL is its endpoint (HF_ENDPOINT).
type Hub struct {
	URL    string
	CDNURL string

	hub, cdn *httptest.Server

	mu       sync.Mutex
	repos    map[string]*repo
	blobs    map[string][]byte // by sha256
	cuts     map[string]int64  // sha256 -> bytes served before the connection drops (once)
	stalls   map[string]int64  // sha256 -> bytes served before the download hangs (once)
	corrupt  map[string]bool   // sha256 -> the CDN flips a byte
	requests []Request
	seq      int
}

type repo struct {
	commits map[string]map[string][]byte // commit -> path -> content
	main    string
	token   string // gated: the token that has access
}

// New starts a hub serving each repository's files (path -> content) at
// revision "main" and at its commit. Files whose name ends in .onnx,
// .safetensors, .bin, .pt or .msgpack, or of 10 MiB or more, are LFS files
// and redirect to the CDN, the others are served directly.
func New(repos map[string]map[string][]byte) *Hub {
	h := &Hub{repos: map[string]*repo{}, blobs: map[string][]byte{}, cuts: map[string]int64{}, stalls: map[string]int64{}, corrupt: map[string]bool{}}
	for name, files := range repos {
		h.repos[name] = &repo{commits: map[string]map[string][]byte{}}
		h.commit(name, maps.Clone(files))
	}
	h.hub = httptest.NewServer(http.HandlerFunc(h.serveHub))
	h.cdn = httptest.NewServer(http.HandlerFunc(h.serveCDN))
	h.URL, h.CDNURL = h.hub.URL, h.cdn.URL
	return h
}

// Close stops both servers; the endpoint then refuses connections.
func (h *Hub) Close() {
	h.hub.Close()
	h.cdn.Close()
}

// commit records files as the repository's new main commit. h.mu held or
// not yet shared.
func (h *Hub) commit(name string, files map[string][]byte) {
	h.seq++
	sum := sha1.Sum([]byte(fmt.Sprintf("%s %d", name, h.seq)))
	c := hex.EncodeToString(sum[:])
	r := h.repos[name]
	r.commits[c] = files
	r.main = c
	for _, b := range files {
		s := sha256.Sum256(b)
		h.blobs[hex.EncodeToString(s[:])] = b
	}
}

// Commit returns the commit "main" points to.
func (h *Hub) Commit(repoName string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.repos[repoName].main
}

// SetFile changes (or adds) a file in a new commit on main.
func (h *Hub) SetFile(repoName, p string, data []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.repos[repoName]
	files := maps.Clone(r.commits[r.main])
	files[p] = data
	h.commit(repoName, files)
}

// RemoveFile deletes a file in a new commit on main.
func (h *Hub) RemoveFile(repoName, p string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.repos[repoName]
	files := maps.Clone(r.commits[r.main])
	delete(files, p)
	h.commit(repoName, files)
}

// Gate makes a repository gated: only "Authorization: Bearer token" gets
// its files.
func (h *Hub) Gate(repoName, token string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.repos[repoName].token = token
}

// CutAfter makes the next CDN download of content drop the connection after
// n bytes.
func (h *Hub) CutAfter(content []byte, n int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cuts[SHA256(content)] = n
}

// StallAfter makes the next CDN download of content send n bytes and then
// nothing, holding the connection open until the client gives up.
func (h *Hub) StallAfter(content []byte, n int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stalls[SHA256(content)] = n
}

// Corrupt makes the CDN serve content with one byte changed, under the same
// declared hash.
func (h *Hub) Corrupt(content []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.corrupt[SHA256(content)] = true
}

// Requests returns the requests received so far.
func (h *Hub) Requests() []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Request(nil), h.requests...)
}

// Downloads counts the GETs that served a file's bytes (CDN or direct).
func (h *Hub) Downloads(content []byte) int {
	sum := SHA256(content)
	n := 0
	for _, r := range h.Requests() {
		if r.Method == http.MethodGet && (r.Status == http.StatusOK || r.Status == http.StatusPartialContent) &&
			(r.Server == "cdn" && strings.HasSuffix(r.Path, "/"+sum) || r.Server == "hub" && strings.HasSuffix(r.Path, "#"+sum)) {
			n++
		}
	}
	return n
}

// record notes a request when it arrives, so Requests lists requests in
// arrival order even when an earlier one (a stalled download) ends later;
// the returned function completes the entry (its status) when it ends.
func (h *Hub) record(r Request) func(complete func(*Request)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := len(h.requests)
	h.requests = append(h.requests, r)
	return func(complete func(*Request)) {
		h.mu.Lock()
		defer h.mu.Unlock()
		complete(&h.requests[i])
	}
}

// IsLFS says whether the hub stores a file in LFS.
func IsLFS(p string, size int) bool {
	switch path.Ext(p) {
	case ".onnx", ".safetensors", ".bin", ".pt", ".msgpack", ".h5":
		return true
	}
	return size >= 10<<20
}

// SHA256 is the hex sha256 of b.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// GitSHA1 is the git blob id of b, the ETag of a regular file.
func GitSHA1(b []byte) string {
	g := sha1.New()
	fmt.Fprintf(g, "blob %d\x00", len(b))
	g.Write(b)
	return hex.EncodeToString(g.Sum(nil))
}

type status struct {
	http.ResponseWriter
	code int
}

func (s *status) WriteHeader(c int) {
	s.code = c
	s.ResponseWriter.WriteHeader(c)
}

func (s *status) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (h *Hub) serveHub(w http.ResponseWriter, r *http.Request) {
	sw := &status{ResponseWriter: w}
	done := h.record(Request{Server: "hub", Method: r.Method, Path: r.URL.Path, Range: r.Header.Get("Range"), Authorization: r.Header.Get("Authorization")})
	var servedBlob string // a file served directly: its sha256, as the entry's path suffix
	defer func() {
		done(func(q *Request) {
			q.Status = sw.code
			if servedBlob != "" {
				q.Path += "#" + servedBlob
			}
		})
	}()
	// /{owner}/{name}/resolve/{revision}/{path...}, the revision escaped.
	parts := strings.SplitN(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/", 5)
	if len(parts) != 5 || parts[2] != "resolve" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(sw, r)
		return
	}
	repoName := parts[0] + "/" + parts[1]
	rev, err1 := url.PathUnescape(parts[3])
	file, err2 := url.PathUnescape(parts[4])
	if err1 != nil || err2 != nil {
		http.Error(sw, "bad path", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	rp := h.repos[repoName]
	var (
		commit  string
		content []byte
		found   bool
	)
	token := ""
	if rp != nil {
		token = rp.token
		commit = rev
		if rev == "main" {
			commit = rp.main
		}
		var files map[string][]byte
		if files = rp.commits[commit]; files != nil {
			content, found = files[file]
		}
	}
	h.mu.Unlock()
	auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case rp == nil && auth == "":
		hubErr(sw, http.StatusUnauthorized, "RepoNotFound", "Repository not found")
		return
	case rp == nil:
		hubErr(sw, http.StatusNotFound, "RepoNotFound", "Repository not found")
		return
	case token != "" && auth == "":
		hubErr(sw, http.StatusUnauthorized, "GatedRepo", "Access to model "+repoName+" is restricted. You must have access to it and be authenticated to access it. Please log in.")
		return
	case token != "" && auth != token:
		hubErr(sw, http.StatusForbidden, "GatedRepo", "Access to model "+repoName+" is restricted and you are not in the authorized list. Visit https://huggingface.co/"+repoName+" to ask for access.")
		return
	case rp.commits[commit] == nil:
		hubErr(sw, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return
	case !found:
		hubErr(sw, http.StatusNotFound, "EntryNotFound", "Entry not found")
		return
	}
	hd := sw.Header()
	hd.Set("X-Repo-Commit", commit)
	hd.Set("Accept-Ranges", "bytes")
	if IsLFS(file, len(content)) {
		sum := SHA256(content)
		pointer := fmt.Sprintf("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", sum, len(content))
		hd.Set("ETag", `"`+GitSHA1([]byte(pointer))+`"`)
		hd.Set("X-Linked-Etag", `"`+sum+`"`)
		hd.Set("X-Linked-Size", strconv.Itoa(len(content)))
		hd.Set("Location", h.cdn.URL+"/repos/"+repoName+"/blobs/"+sum+"?X-Amz-Expires=3600&X-Amz-Signature=fake")
		sw.WriteHeader(http.StatusFound)
		return
	}
	hd.Set("ETag", `"`+GitSHA1(content)+`"`)
	servedBlob = SHA256(content)
	http.ServeContent(sw, r, "", time.Time{}, bytes.NewReader(content))
}

func hubErr(w http.ResponseWriter, code int, errCode, msg string) {
	w.Header().Set("X-Error-Code", errCode)
	w.Header().Set("X-Error-Message", msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, "{%q:%q}\n", "error", msg)
}

func (h *Hub) serveCDN(w http.ResponseWriter, r *http.Request) {
	sw := &status{ResponseWriter: w}
	done := h.record(Request{Server: "cdn", Method: r.Method, Path: r.URL.Path, Range: r.Header.Get("Range"), Authorization: r.Header.Get("Authorization")})
	defer func() { done(func(q *Request) { q.Status = sw.code }) }()
	sum := path.Base(r.URL.Path)
	h.mu.Lock()
	content, ok := h.blobs[sum]
	cut, cutting := h.cuts[sum]
	stall, stalling := h.stalls[sum]
	if r.Method == http.MethodGet {
		delete(h.cuts, sum)
		delete(h.stalls, sum)
	}
	if h.corrupt[sum] {
		content = append([]byte(nil), content...)
		content[len(content)/2] ^= 0xff
	}
	h.mu.Unlock()
	if !ok || r.URL.Query().Get("X-Amz-Signature") == "" {
		sw.Header().Set("Content-Type", "application/xml")
		sw.WriteHeader(http.StatusForbidden)
		fmt.Fprint(sw, "<Error><Code>AccessDenied</Code></Error>")
		return
	}
	sw.Header().Set("ETag", `"`+sum+`"`)
	var out http.ResponseWriter = sw
	switch {
	case r.Method != http.MethodGet:
	case cutting:
		out = &cutter{status: sw, left: cut}
	case stalling:
		out = &cutter{status: sw, left: stall, hang: r.Context().Done()}
	}
	http.ServeContent(out, r, "", time.Time{}, bytes.NewReader(content))
}

// cutter drops the connection once left bytes went out, at once or, with
// hang, when the client gives up.
type cutter struct {
	*status
	left int64
	hang <-chan struct{}
}

func (c *cutter) Write(b []byte) (int, error) {
	if int64(len(b)) > c.left {
		_, _ = c.status.Write(b[:c.left])
		c.left = 0
		if f, ok := c.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		if c.hang != nil {
			<-c.hang
		}
		panic(http.ErrAbortHandler)
	}
	c.left -= int64(len(b))
	return c.status.Write(b)
}

// ReadDir returns every regular file under root by slash-separated
// relative path, for serving a directory as a repository.
func ReadDir(root string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hubtest: %w", err)
	}
	return files, nil
}

// FromModelDir serves a model directory in the contract layout as the two
// hub repositories: MODEL_DIR/text as modelstore.TextRepo and
// MODEL_DIR/vision as modelstore.VisionRepo.
func FromModelDir(modelDir string) (map[string]map[string][]byte, error) {
	text, err := ReadDir(filepath.Join(modelDir, modelstore.TextDir))
	if err != nil {
		return nil, err
	}
	vision, err := ReadDir(filepath.Join(modelDir, modelstore.VisionDir))
	if err != nil {
		return nil, err
	}
	return map[string]map[string][]byte{modelstore.TextRepo: text, modelstore.VisionRepo: vision}, nil
}

// WriteHFCache writes files as huggingface_hub caches a repository at a
// commit under root (a HF_HUB_CACHE): blobs/{etag} holds each content (the
// sha256 of an LFS file, see IsLFS, else its git blob sha1),
// snapshots/{commit}/{path} is a relative symlink to it, and refs/{ref}
// holds the commit when ref is not empty. It returns each path's blob.
func WriteHFCache(root, repoName, commit, ref string, files map[string][]byte) (map[string]string, error) {
	dir := filepath.Join(root, "models--"+strings.ReplaceAll(repoName, "/", "--"))
	blobs := map[string]string{}
	for p, b := range files {
		etag := GitSHA1(b)
		if IsLFS(p, len(b)) {
			etag = SHA256(b)
		}
		blob := filepath.Join(dir, "blobs", etag)
		if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
			return nil, fmt.Errorf("hubtest: %w", err)
		}
		if err := os.WriteFile(blob, b, 0o644); err != nil {
			return nil, fmt.Errorf("hubtest: %w", err)
		}
		snap := filepath.Join(dir, "snapshots", commit, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(snap), 0o755); err != nil {
			return nil, fmt.Errorf("hubtest: %w", err)
		}
		target, err := filepath.Rel(filepath.Dir(snap), blob)
		if err != nil {
			return nil, fmt.Errorf("hubtest: %w", err)
		}
		if err := os.Symlink(target, snap); err != nil {
			return nil, fmt.Errorf("hubtest: %w", err)
		}
		blobs[p] = blob
	}
	if ref != "" {
		r := filepath.Join(dir, "refs", filepath.FromSlash(ref))
		if err := os.MkdirAll(filepath.Dir(r), 0o755); err != nil {
			return nil, fmt.Errorf("hubtest: %w", err)
		}
		if err := os.WriteFile(r, []byte(commit), 0o644); err != nil {
			return nil, fmt.Errorf("hubtest: %w", err)
		}
	}
	return blobs, nil
}
