package modelstore

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/filelock"
)

// incompleteDir holds partial downloads, named by the hub's ETag so a
// resumed download continues the same content only.
const incompleteDir = ".incomplete"

// pullLockName is the flock file that serializes pulls of one directory.
const pullLockName = ".pull.lock"

// PullResult says what a pull did.
type PullResult struct {
	Dir         Dir
	Downloaded  []string // MODEL_DIR-relative paths fetched
	FromHFCache []string // taken from the Hugging Face cache, verified
	Kept        []string // already present and verified
	Offline     bool     // the network was not used (offline or unreachable)
	Commits     map[string]string
	// HFCache is the Hugging Face cache read; empty when none.
	HFCache string
}

// ChangedError is a file whose upstream content differs from the lock.
type ChangedError struct {
	File         string
	Repo         string
	Revision     string
	LockPath     string
	Locked       LockEntry
	RemoteSHA256 string
	RemoteCommit string
	Hint         string
}

func (e *ChangedError) Error() string {
	return fmt.Sprintf("%s changed upstream: %s pins sha256 %s (commit %s) but %s@%s now serves sha256 %s (commit %s); run `%s` to accept the new file",
		e.File, e.LockPath, e.Locked.SHA256, e.Locked.Commit, e.Repo, e.Revision, e.RemoteSHA256, e.RemoteCommit, e.Hint)
}

func (e *ChangedError) Unwrap() error { return ErrChanged }

// Pull fetches the variant's files that are missing or differ, verifies
// each against the hub's hash and the lock, and records new pins. Pulls of
// one directory are serialized with a file lock. Offline, or with the hub
// unreachable, a complete cache is used as is and an incomplete one is an
// IncompleteError.
func (s *Store) Pull(ctx context.Context) (PullResult, error) {
	res, err := s.pull(ctx)
	return res, s.redact(err)
}

func (s *Store) pull(ctx context.Context) (PullResult, error) {
	res := PullResult{Dir: s.dir, Commits: map[string]string{}, HFCache: s.HFCache()}
	if s.local {
		return res, fmt.Errorf("%s is set (%s): a local model directory is used as is; unset it to pull into the cache", config.EnvModelDir, s.dir.Root)
	}
	if err := os.MkdirAll(s.dir.Root, 0o755); err != nil {
		return res, fmt.Errorf("model cache: %w", err)
	}
	unlock, err := filelock.Lock(ctx, filepath.Join(s.dir.Root, pullLockName))
	if err != nil {
		return res, fmt.Errorf("pull lock: %w", err)
	}
	defer unlock()
	defer removeIfEmpty(filepath.Join(s.dir.Root, incompleteDir))

	if s.opts.Offline {
		return s.offline(res, nil)
	}
	hub, err := newHubClient(s.opts.Endpoint, s.opts.Token, s.opts.HTTPClient)
	if err != nil {
		return res, err
	}
	lock, err := ReadLock(s.lockPath)
	if err != nil {
		return res, err
	}
	origins, err := readOrigins(s.dir.Root)
	if err != nil {
		return res, err
	}
	prog := newProgress(s.logWriter())
	// placed holds the files already in place by repository, commit and
	// path: a tag whose towers share a repository lists some files for
	// both (MetaCLIP 2's 2.35 GB model.safetensors), fetched once.
	placed := map[string]string{}
	for _, f := range s.manifest.Files {
		// The first file of a repository resolves its revision to a commit;
		// the others are asked at that commit, so a branch moving mid-pull
		// cannot mix two snapshots.
		at := f
		if c := res.Commits[f.Repo]; c != "" {
			at.Revision = c
		}
		meta, err := hub.head(ctx, at)
		if err != nil {
			if errors.Is(err, ErrNetwork) && ctx.Err() == nil {
				return s.offline(res, err)
			}
			return res, err
		}
		res.Commits[f.Repo] = meta.Commit
		key := f.Repo + "@" + meta.Commit + ":" + f.Path
		o, err := s.pullFile(ctx, hub, prog, lock, f, at, meta, placed[key])
		if err != nil {
			return res, err
		}
		placed[key] = s.path(f.Rel())
		switch o.Source {
		case "":
			res.Kept = append(res.Kept, f.Rel())
			continue
		case SourceHFCache:
			res.FromHFCache = append(res.FromHFCache, f.Rel())
		default:
			res.Downloaded = append(res.Downloaded, f.Rel())
		}
		origins[f.Rel()] = o
		if err := writeOrigins(s.dir.Root, origins); err != nil {
			return res, err
		}
	}
	return res, nil
}

// pullOffline answers without the network: the cache as is, completed from
// the Hugging Face cache when there is one (under the pull lock, as it
// writes).
func (s *Store) pullOffline(ctx context.Context, cause error) (PullResult, error) {
	res := PullResult{Dir: s.dir, Commits: map[string]string{}, HFCache: s.HFCache()}
	miss, err := s.incomplete()
	if err != nil {
		return res, err
	}
	if !s.hfHolds(miss) {
		// Nothing to take: write nothing (the cache may be read-only).
		return s.offline(res, cause)
	}
	if err := os.MkdirAll(s.dir.Root, 0o755); err != nil {
		return res, fmt.Errorf("model cache: %w", err)
	}
	unlock, err := filelock.Lock(ctx, filepath.Join(s.dir.Root, pullLockName))
	if err != nil {
		return res, fmt.Errorf("pull lock: %w", err)
	}
	defer unlock()
	defer removeIfEmpty(filepath.Join(s.dir.Root, incompleteDir))
	return s.offline(res, cause)
}

// offline answers a pull that may not or cannot use the network: missing
// files are taken from the Hugging Face cache when it holds them verified,
// and what is then complete is used as is.
func (s *Store) offline(res PullResult, cause error) (PullResult, error) {
	miss, err := s.incomplete()
	if err != nil {
		return res, err
	}
	if err := s.adoptOffline(miss, &res); err != nil {
		return res, err
	}
	if len(res.FromHFCache) > 0 {
		if miss, err = s.incomplete(); err != nil {
			return res, err
		}
	}
	if len(miss) > 0 {
		return res, s.incompleteError(miss, cause)
	}
	res.Offline = true
	taken := map[string]bool{}
	for _, r := range res.FromHFCache {
		taken[r] = true
	}
	for _, r := range s.manifest.Rels() {
		if !taken[r] {
			res.Kept = append(res.Kept, r)
		}
	}
	if cause != nil {
		fmt.Fprintf(s.log, "hub unreachable (%v): using the complete cache %s as is\n", cause, s.dir.Root)
	}
	return res, nil
}

// pullFile brings one file up to date and says where it came from: the
// zero Origin when it was already there. f is the manifest's file, at the
// same file at the pull's commit. Before a download, the Hugging Face cache
// is asked for the file at that commit or under the hub's etag.
//
// twin, when set, is the same file of the same commit already in place for
// the other tower: it is linked (or copied) and verified instead of
// fetched again.
func (s *Store) pullFile(ctx context.Context, hub *hubClient, prog progress, lock *Lock, f, at File, meta remoteFile, twin string) (Origin, error) {
	rel, dest := f.Rel(), s.path(f.Rel())
	entry, pinned := lock.Entry(rel)
	if pinned && entry.ETag != meta.ETag && !s.opts.Update {
		return Origin{}, s.changed(ctx, hub, prog, f, at, meta, entry)
	}
	trustLock := pinned && entry.ETag == meta.ETag
	good := func(sum, gsum string) bool {
		return (trustLock && sum == entry.SHA256) || (!trustLock && matchesRemote(meta, sum, gsum))
	}
	if exists(dest) {
		sum, gsum, err := hashFile(dest)
		if err != nil {
			return Origin{}, err
		}
		if good(sum, gsum) {
			if !trustLock {
				lock.Set(s.entry(f, meta, sum))
				if err := WriteLock(s.lockPath, lock); err != nil {
					return Origin{}, err
				}
			}
			return Origin{}, nil
		}
		fmt.Fprintf(s.log, "%s: differs from the hub's (sha256 %s): fetching it again\n", rel, sum)
	}
	if twin != "" {
		if sum, how, err := s.adopt(twin, rel, good); err == nil {
			fmt.Fprintf(s.log, "%s: the same file as the other tower's (%s, verified)\n", rel, how)
			lock.Set(s.entry(f, meta, sum))
			return Origin{Source: SourceHub, From: hub.endpoint.String(), How: how}, WriteLock(s.lockPath, lock)
		}
	}
	if s.hf != nil {
		cands := s.hf.find(f.Repo, meta.Commit, meta.ETag, f.Path)
		if sum, _, o, ok := s.fromHFCache(f, cands, func(_ hfCandidate, sum, gsum string) bool { return good(sum, gsum) }); ok {
			fmt.Fprintf(s.log, "%s: from the Hugging Face cache (%s, verified)\n", rel, o.How)
			lock.Set(s.entry(f, meta, sum))
			return o, WriteLock(s.lockPath, lock)
		}
	}
	tmp, sum, err := s.download(ctx, hub, prog, at, meta)
	if err != nil {
		return Origin{}, err
	}
	if trustLock && sum != entry.SHA256 {
		os.Remove(tmp)
		return Origin{}, fmt.Errorf("%s: %w: the hub's file has sha256 %s, the lock pins %s", rel, ErrCorrupt, sum, entry.SHA256)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		os.Remove(tmp)
		return Origin{}, fmt.Errorf("%s: %w", rel, err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		os.Remove(tmp)
		return Origin{}, fmt.Errorf("%s: %w", rel, err)
	}
	lock.Set(s.entry(f, meta, sum))
	return Origin{Source: SourceHub, From: hub.endpoint.String()}, WriteLock(s.lockPath, lock)
}

func (s *Store) entry(f File, meta remoteFile, sum string) LockEntry {
	return LockEntry{Path: f.Rel(), Repo: f.Repo, Revision: f.Revision, Commit: meta.Commit,
		Size: meta.Size, ETag: meta.ETag, SHA256: sum}
}

// changed builds the error for a file that differs from its pin. An LFS
// file's ETag is its sha256; a regular file's is a git sha1, so it is
// fetched (it is small) to name its sha256, and not kept.
func (s *Store) changed(ctx context.Context, hub *hubClient, prog progress, f, at File, meta remoteFile, entry LockEntry) error {
	e := &ChangedError{File: f.Rel(), Repo: f.Repo, Revision: f.Revision, LockPath: s.lockPath, Locked: entry,
		RemoteSHA256: meta.ETag, RemoteCommit: meta.Commit, Hint: s.pullCommand(true)}
	if !meta.LFS {
		tmp, sum, err := s.download(ctx, hub, prog, at, meta)
		if err != nil {
			return fmt.Errorf("%s changed upstream (git sha1 %s), and fetching it failed: %w", f.Rel(), meta.ETag, err)
		}
		os.Remove(tmp)
		e.RemoteSHA256 = sum
	}
	return e
}

func matchesRemote(meta remoteFile, sum, gitSum string) bool {
	if meta.LFS {
		return sum == meta.ETag
	}
	return gitSum == meta.ETag
}

// download fetches a file into CACHE/.../.incomplete/<etag>.incomplete,
// resuming what an earlier attempt left, retrying a cut connection, and
// verifies its size and hash. It returns the verified temporary file; on
// any verification failure nothing is left behind.
func (s *Store) download(ctx context.Context, hub *hubClient, prog progress, f File, meta remoteFile) (string, string, error) {
	dir := filepath.Join(s.dir.Root, incompleteDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("%s: %w", f.Rel(), err)
	}
	part := filepath.Join(dir, meta.ETag+".incomplete")
	const attempts = 4
	var err error
	for i := range attempts {
		if i > 0 {
			fmt.Fprintf(s.log, "%v; resuming (attempt %d of %d)\n", err, i+1, attempts)
			// A CDN location may be signed for a short while: ask again.
			if fresh, herr := hub.head(ctx, f); herr == nil && fresh.ETag == meta.ETag {
				meta.Location = fresh.Location
			}
		}
		if err = s.fetchInto(ctx, hub, prog, f, meta, part); err == nil || !retryable(ctx, err) {
			break
		}
	}
	if err != nil {
		return "", "", err
	}
	sum, gitSum, err := hashFile(part)
	if err != nil {
		os.Remove(part)
		return "", "", err
	}
	if !matchesRemote(meta, sum, gitSum) {
		os.Remove(part)
		kind, got := "sha256", sum
		if !meta.LFS {
			kind, got = "git sha1", gitSum
		}
		return "", "", fmt.Errorf("%s: %w: %s declares %s %s, the download has %s; nothing was kept", f.Rel(), ErrCorrupt, f.Repo, kind, meta.ETag, got)
	}
	return part, sum, nil
}

func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var he *HubError
	if errors.As(err, &he) {
		return he.Status >= 500
	}
	return errors.Is(err, ErrNetwork) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errRangeNotSatisfiable) || errors.Is(err, errShortBody) || errors.Is(err, errStalled)
}

var (
	errShortBody = errors.New("connection closed before the end of the file")
	errStalled   = errors.New("no data received for a while")
)

// stallTimeout ends a download that received no byte for this long.
var stallTimeout = time.Minute

// stallReader resets the watchdog whenever bytes arrive.
type stallReader struct {
	r        io.Reader
	watchdog *time.Timer
}

func (s stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.watchdog.Reset(stallTimeout)
	}
	return n, err
}

// fetchInto appends the missing bytes to part.
func (s *Store) fetchInto(ctx context.Context, hub *hubClient, prog progress, f File, meta remoteFile, part string) (err error) {
	out, err := os.OpenFile(part, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Rel(), err)
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("%s: %w", f.Rel(), cerr)
		}
	}()
	fi, err := out.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", f.Rel(), err)
	}
	offset := fi.Size()
	if offset > meta.Size {
		offset = 0
	}
	if offset == meta.Size && offset > 0 {
		return nil // complete: the hash decides
	}
	// A watchdog ends a download that receives nothing for stallTimeout;
	// the next attempt resumes it.
	dctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(stallTimeout, func() { cancel(errStalled) })
	defer watchdog.Stop()
	resp, err := hub.get(dctx, f, meta.Location, offset)
	if errors.Is(err, errRangeNotSatisfiable) {
		if terr := out.Truncate(0); terr != nil {
			return fmt.Errorf("%s: %w", f.Rel(), terr)
		}
		return err
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && contentRangeStart(resp.Header.Get("Content-Range")) == offset:
	case resp.StatusCode == http.StatusOK:
		offset = 0 // the server ignored the range: start over
	default:
		return fmt.Errorf("%s: GET: unexpected %s (Content-Range %q) for a download from byte %d", f.Rel(), resp.Status, resp.Header.Get("Content-Range"), offset)
	}
	if err := out.Truncate(offset); err != nil {
		return fmt.Errorf("%s: %w", f.Rel(), err)
	}
	if _, err := out.Seek(offset, io.SeekStart); err != nil {
		return fmt.Errorf("%s: %w", f.Rel(), err)
	}
	prog.start(f.Rel(), meta.Size, offset)
	want := meta.Size - offset
	body := stallReader{r: resp.Body, watchdog: watchdog}
	n, err := io.Copy(io.MultiWriter(out, progressWriter{prog}), io.LimitReader(body, want))
	if err == nil && n < want {
		err = errShortBody
	}
	prog.finish(err)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(context.Cause(dctx), errStalled) {
			err = errStalled
		}
		return fmt.Errorf("%s: after %d of %d bytes: %w", f.Rel(), offset+n, meta.Size, wrapRead(err))
	}
	return out.Sync()
}

// wrapRead marks a failed body read as a network error, so it is retried.
func wrapRead(err error) error {
	if errors.Is(err, errShortBody) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errStalled) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrNetwork, err)
}

// contentRangeStart parses "bytes START-END/TOTAL"; -1 when malformed.
func contentRangeStart(h string) int64 {
	rest, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return -1
	}
	start, _, ok := strings.Cut(rest, "-")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(start, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// hashFile returns a file's sha256 and git blob sha1 in one read.
func hashFile(p string) (sum, gitSum string, err error) {
	f, err := os.Open(p)
	if err != nil {
		return "", "", fmt.Errorf("hash: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", "", fmt.Errorf("hash: %w", err)
	}
	h, g := sha256.New(), sha1.New()
	fmt.Fprintf(g, "blob %d\x00", fi.Size())
	if _, err := io.Copy(io.MultiWriter(h, g), f); err != nil {
		return "", "", fmt.Errorf("hash %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), hex.EncodeToString(g.Sum(nil)), nil
}
