package modelstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultEndpoint is the Hugging Face hub; HF_ENDPOINT names a mirror.
const DefaultEndpoint = "https://huggingface.co"

// Errors a pull can end with, for errors.Is.
var (
	// ErrAccess: the repository is gated or private and the request carried
	// no token, or one without access (HTTP 401/403).
	ErrAccess = errors.New("access denied")
	// ErrNotFound: the repository, revision or file does not exist (404).
	ErrNotFound = errors.New("not found")
	// ErrNetwork: the hub could not be reached.
	ErrNetwork = errors.New("hub unreachable")
)

// hubClient speaks the hub's resolve protocol, the one huggingface_hub's
// file_download.py uses: HEAD {endpoint}/{repo}/resolve/{revision}/{path}
// without following redirects to another host. A file stored in LFS answers
// 302 to its CDN location with X-Linked-Etag (its sha256) and X-Linked-Size;
// a regular file answers 200 with an ETag that is its git blob sha1. Both
// carry X-Repo-Commit. Errors carry X-Error-Code (GatedRepo, RepoNotFound,
// RevisionNotFound, EntryNotFound) and X-Error-Message.
type hubClient struct {
	endpoint *url.URL
	token    string
	http     *http.Client
}

// newHubClient checks the endpoint: https, or http on a loopback host only.
func newHubClient(endpoint, token string, hc *http.Client) (*hubClient, error) {
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	u, err := url.Parse(strings.TrimRight(endpoint, "/"))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("hub endpoint %q: not an absolute URL", endpoint)
	}
	if err := checkScheme(u); err != nil {
		return nil, fmt.Errorf("hub endpoint: %w", err)
	}
	if hc == nil {
		// The default transport (proxies from the environment), with a bound
		// on the wait for response headers; stalled bodies are the download
		// watchdog's job.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = time.Minute
		hc = &http.Client{Transport: t}
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hubClient{endpoint: u, token: token, http: &c}, nil
}

// checkScheme allows https anywhere and http on loopback hosts only.
func checkScheme(u *url.URL) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%s://%s: plain http is refused (models would travel unauthenticated); use https", u.Scheme, u.Host)
	}
	return fmt.Errorf("%s://%s: unsupported scheme, want https", u.Scheme, u.Host)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// resolveURL is {endpoint}/{repo}/resolve/{revision}/{path}.
func (h *hubClient) resolveURL(f File) string {
	segs := strings.Split(f.Path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return h.endpoint.String() + "/" + f.Repo + "/resolve/" + url.PathEscape(f.Revision) + "/" + strings.Join(segs, "/")
}

// remoteFile is what the hub says about a file before its download.
type remoteFile struct {
	Commit   string // X-Repo-Commit
	ETag     string // sha256 (LFS) or git blob sha1, unquoted
	LFS      bool   // ETag is a sha256
	Size     int64
	Location string // where to GET the bytes
}

// head fetches a file's metadata. Same-host redirects (a renamed
// repository) are followed with the token; a redirect to another host is the
// CDN location and is not followed.
func (h *hubClient) head(ctx context.Context, f File) (remoteFile, error) {
	u := h.resolveURL(f)
	for range 5 {
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
		if err != nil {
			return remoteFile{}, fmt.Errorf("%s: %w", f.Rel(), err)
		}
		req.Header.Set("Accept-Encoding", "identity")
		h.authorize(req)
		resp, err := h.http.Do(req)
		if err != nil {
			return remoteFile{}, fmt.Errorf("%s: HEAD %s: %w: %w", f.Rel(), u, ErrNetwork, err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 400 {
			return remoteFile{}, hubError(resp, f)
		}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
			if err != nil || resp.Header.Get("Location") == "" {
				return remoteFile{}, fmt.Errorf("%s: HEAD %s: redirect %d without a valid Location", f.Rel(), u, resp.StatusCode)
			}
			if resp.Header.Get("X-Linked-Etag") == "" && loc.Host == req.URL.Host {
				u = loc.String() // renamed repository: follow, keep the token
				continue
			}
			return metadata(resp, f, loc.String())
		}
		return metadata(resp, f, u)
	}
	return remoteFile{}, fmt.Errorf("%s: HEAD %s: too many redirects", f.Rel(), h.resolveURL(f))
}

func metadata(resp *http.Response, f File, location string) (remoteFile, error) {
	r := remoteFile{Commit: resp.Header.Get("X-Repo-Commit"), Location: location}
	if e := resp.Header.Get("X-Linked-Etag"); e != "" {
		r.ETag, r.LFS = normalizeETag(e), true
	} else {
		r.ETag = normalizeETag(resp.Header.Get("ETag"))
	}
	size := resp.Header.Get("X-Linked-Size")
	if size == "" {
		size = resp.Header.Get("Content-Length")
	}
	n, err := strconv.ParseInt(size, 10, 64)
	switch {
	case r.Commit == "":
		return r, fmt.Errorf("%s: the hub sent no X-Repo-Commit: is %s a Hugging Face hub?", f.Rel(), resp.Request.URL.Host)
	case r.ETag == "":
		return r, fmt.Errorf("%s: the hub sent no ETag: cannot verify the file", f.Rel())
	case r.LFS && !isHex(r.ETag, 64):
		return r, fmt.Errorf("%s: X-Linked-Etag %q is not a sha256", f.Rel(), r.ETag)
	case !r.LFS && !isHex(r.ETag, 40):
		return r, fmt.Errorf("%s: ETag %q is not a git blob sha1", f.Rel(), r.ETag)
	case err != nil || n < 0:
		return r, fmt.Errorf("%s: the hub sent no valid size (%q)", f.Rel(), size)
	}
	r.Size = n
	if err := checkScheme(mustParse(location)); err != nil {
		return r, fmt.Errorf("%s: download location: %w", f.Rel(), err)
	}
	return r, nil
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		return &url.URL{Scheme: "invalid"}
	}
	return u
}

// normalizeETag drops the weak marker and the quotes, as huggingface_hub does.
func normalizeETag(e string) string {
	return strings.Trim(strings.TrimPrefix(strings.TrimSpace(e), "W/"), `"`)
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// authorize adds the token for the hub's own host only: a CDN on another
// host never sees it.
func (h *hubClient) authorize(req *http.Request) {
	if h.token != "" && req.URL.Host == h.endpoint.Host {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
}

// get starts a download from offset (a Range request when offset > 0). The
// caller checks whether the answer is 206 (resumed) or 200 (from zero).
func (h *hubClient) get(ctx context.Context, f File, location string, offset int64) (*http.Response, error) {
	u := location
	for range 5 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Rel(), err)
		}
		req.Header.Set("Accept-Encoding", "identity")
		if offset > 0 {
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
		}
		h.authorize(req)
		resp, err := h.http.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s: GET %s: %w: %w", f.Rel(), hostOf(u), ErrNetwork, err)
		}
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			resp.Body.Close()
			loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
			if err != nil {
				return nil, fmt.Errorf("%s: GET %s: bad redirect: %w", f.Rel(), hostOf(u), err)
			}
			if err := checkScheme(loc); err != nil {
				return nil, fmt.Errorf("%s: redirect: %w", f.Rel(), err)
			}
			u = loc.String()
			continue
		case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
			resp.Body.Close()
			return nil, errRangeNotSatisfiable
		case resp.StatusCode >= 400:
			defer resp.Body.Close()
			return nil, hubError(resp, f)
		}
		return resp, nil
	}
	return nil, fmt.Errorf("%s: GET: too many redirects", f.Rel())
}

var errRangeNotSatisfiable = errors.New("range not satisfiable")

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "?"
	}
	return p.Scheme + "://" + p.Host + p.Path
}

// HubError is an HTTP error from the hub, with its X-Error-Code.
type HubError struct {
	Status  int
	Code    string // X-Error-Code
	Message string // X-Error-Message
	Repo    string
	File    string // MODEL_DIR-relative
}

func (e *HubError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s from %s: HTTP %d", e.File, e.Repo, e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	switch {
	case e.Code == "GatedRepo" || e.Status == http.StatusForbidden:
		fmt.Fprintf(&b, " (the repository is gated: accept its conditions at https://huggingface.co/%s, then set HF_TOKEN to a read token of that account)", e.Repo)
	case e.Status == http.StatusUnauthorized || e.Code == "RepoNotFound":
		fmt.Fprintf(&b, " (the repository does not exist or is private: check its name, or set HF_TOKEN to a token with access)")
	case e.Code == "RevisionNotFound":
		b.WriteString(" (no such branch, tag or commit: check the revision)")
	case e.Code == "EntryNotFound" || e.Status == http.StatusNotFound:
		b.WriteString(" (the file is not in the repository at this revision)")
	}
	return b.String()
}

// Is maps the error to ErrAccess and ErrNotFound.
func (e *HubError) Is(target error) bool {
	switch target {
	case ErrAccess:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || e.Code == "GatedRepo"
	case ErrNotFound:
		return e.Status == http.StatusNotFound || e.Code == "RepoNotFound" || e.Code == "EntryNotFound" || e.Code == "RevisionNotFound"
	}
	return false
}

func hubError(resp *http.Response, f File) error {
	msg := resp.Header.Get("X-Error-Message")
	if msg == "" && resp.Request.Method != http.MethodHead {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		msg = strings.TrimSpace(string(body))
		if strings.ContainsAny(msg, "<\n") {
			msg = "" // an HTML page or a multi-line body says nothing useful here
		}
	}
	return &HubError{Status: resp.StatusCode, Code: resp.Header.Get("X-Error-Code"), Message: msg, Repo: f.Repo, File: f.Rel()}
}
