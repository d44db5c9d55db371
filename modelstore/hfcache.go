package modelstore

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// HFCacheDir returns huggingface_hub's cache of hub repositories: hubCache
// (HF_HUB_CACHE) when set, else hfHome/hub (HF_HOME), else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
func HFCacheDir(hubCache, hfHome string) (string, error) {
	switch {
	case hubCache != "":
		return hubCache, nil
	case hfHome != "":
		return filepath.Join(hfHome, "hub"), nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "huggingface", "hub"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("Hugging Face cache: no HF_HUB_CACHE, HF_HOME, XDG_CACHE_HOME or home directory: %w", err)
	}
	return filepath.Join(home, ".cache", "huggingface", "hub"), nil
}

// hfCache reads huggingface_hub's cache layout, one directory per
// repository:
//
//	ROOT/models--{owner}--{name}/refs/{revision}          the commit a branch or tag pointed to
//	ROOT/models--{owner}--{name}/snapshots/{commit}/{path} a symlink to ../../blobs/{etag}
//	ROOT/models--{owner}--{name}/blobs/{etag}              the content
//
// The etag is the file's sha256 for LFS files, its git blob sha1 otherwise,
// the same ETag the hub's resolve endpoint sends. Nothing here is trusted:
// every file taken from it is hashed first.
type hfCache struct {
	root string
}

func (c hfCache) repoDir(repo string) string {
	return filepath.Join(c.root, "models--"+strings.ReplaceAll(repo, "/", "--"))
}

// commit resolves a revision the way huggingface_hub does offline: a commit
// hash is itself, a branch or tag is the hash in refs/{revision}.
func (c hfCache) commit(repo, revision string) (string, bool) {
	if isHex(revision, 40) {
		return revision, true
	}
	b, err := os.ReadFile(filepath.Join(c.repoDir(repo), "refs", filepath.FromSlash(revision)))
	if err != nil {
		return "", false
	}
	commit := strings.TrimSpace(string(b))
	return commit, isHex(commit, 40)
}

// hfCandidate is a file of the cache that may be the one wanted.
type hfCandidate struct {
	Path string // in the cache
	ETag string // from the blob's name; empty when unknown (a snapshot file that is no symlink)
}

// find returns the places that may hold a repository's file: its snapshot
// at commit, then the blob named etag (the same content under another
// commit). commit or etag may be empty.
func (c hfCache) find(repo, commit, etag, path string) []hfCandidate {
	var out []hfCandidate
	if commit != "" {
		snap := filepath.Join(c.repoDir(repo), "snapshots", commit, filepath.FromSlash(path))
		if fi, err := os.Stat(snap); err == nil && fi.Mode().IsRegular() {
			out = append(out, hfCandidate{Path: snap, ETag: linkedETag(snap)})
		}
	}
	if isHex(etag, 64) || isHex(etag, 40) {
		blob := filepath.Join(c.repoDir(repo), "blobs", etag)
		if fi, err := os.Stat(blob); err == nil && fi.Mode().IsRegular() {
			out = append(out, hfCandidate{Path: blob, ETag: etag})
		}
	}
	return out
}

// linkedETag is the etag a snapshot symlink's blob is named by.
func linkedETag(snap string) string {
	target, err := os.Readlink(snap)
	if err != nil {
		return ""
	}
	e := filepath.Base(target)
	if filepath.Base(filepath.Dir(target)) != "blobs" || !(isHex(e, 64) || isHex(e, 40)) {
		return ""
	}
	return e
}

// matchesETag checks content hashes against an etag: a sha256 (LFS) or a
// git blob sha1.
func matchesETag(etag, sum, gitSum string) bool {
	if len(etag) == 64 {
		return sum == etag
	}
	return gitSum == etag
}

// Ways a file came from the Hugging Face cache.
const (
	HowHardLink = "hard link"
	HowCopy     = "copy"
)

// linkFile makes dst a hard link of src; tests replace it to force a copy.
var linkFile = os.Link

// adopt puts a file of the Hugging Face cache at rel in the model
// directory: a hard link (no second copy on disk; huggingface_hub replaces
// blobs by renaming, never in place), or a copy when the two caches are on
// different file systems. The content is hashed where it will stay and must
// satisfy ok; otherwise nothing is kept and the error says why.
func (s *Store) adopt(src, rel string, ok func(sum, gitSum string) bool) (sum, how string, err error) {
	src, err = filepath.EvalSymlinks(src)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", rel, err)
	}
	dir := filepath.Join(s.dir.Root, incompleteDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("%s: %w", rel, err)
	}
	// A name of its own: a download appends to <etag>.incomplete, and must
	// never write through a link into the Hugging Face cache.
	tmpf, err := os.CreateTemp(dir, "hf-*.tmp")
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", rel, err)
	}
	tmp := tmpf.Name()
	tmpf.Close()
	os.Remove(tmp)
	how = HowHardLink
	if lerr := linkFile(src, tmp); lerr != nil {
		how = HowCopy
		if err := copyFile(src, tmp); err != nil {
			os.Remove(tmp)
			return "", "", fmt.Errorf("%s: from the Hugging Face cache: %w", rel, err)
		}
	}
	sum, gitSum, err := hashFile(tmp)
	if err != nil {
		os.Remove(tmp)
		return "", "", err
	}
	if !ok(sum, gitSum) {
		os.Remove(tmp)
		return "", "", fmt.Errorf("%s: %w: the Hugging Face cache's %s has sha256 %s (git sha1 %s), not the expected content", rel, ErrCorrupt, src, sum, gitSum)
	}
	dest := s.path(rel)
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		os.Remove(tmp)
		return "", "", fmt.Errorf("%s: %w", rel, err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		os.Remove(tmp)
		return "", "", fmt.Errorf("%s: %w", rel, err)
	}
	return sum, how, nil
}

func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return err
	}
	return out.Sync()
}

// fromHFCache tries the candidates in order and keeps the first whose
// content satisfies ok. A candidate that fails is reported on the log and
// skipped; found is false when none was usable.
func (s *Store) fromHFCache(f File, cands []hfCandidate, ok func(c hfCandidate, sum, gitSum string) bool) (sum string, used hfCandidate, o Origin, found bool) {
	for _, c := range cands {
		sum, how, err := s.adopt(c.Path, f.Rel(), func(sum, gitSum string) bool { return ok(c, sum, gitSum) })
		if err != nil {
			fmt.Fprintf(s.log, "%v: not used\n", err)
			continue
		}
		return sum, c, Origin{Source: SourceHFCache, From: c.Path, How: how}, true
	}
	return "", hfCandidate{}, Origin{}, false
}

// offlineCandidates returns where the Hugging Face cache may hold f without
// asking the hub: at the commit the lock pins, or under the pinned etag
// (pinned is true, entry is the pin); else at the commit the cache's refs
// name for f's revision (entry has that commit, and no hash yet).
func (s *Store) offlineCandidates(f File, lock *Lock) (cands []hfCandidate, entry LockEntry, pinned bool) {
	if s.hf == nil {
		return nil, LockEntry{}, false
	}
	if entry, pinned = lock.Entry(f.Rel()); pinned {
		return s.hf.find(f.Repo, entry.Commit, entry.ETag, f.Path), entry, true
	}
	commit, ok := s.hf.commit(f.Repo, f.Revision)
	if !ok {
		return nil, LockEntry{}, false
	}
	return s.hf.find(f.Repo, commit, "", f.Path), LockEntry{Path: f.Rel(), Repo: f.Repo, Revision: f.Revision, Commit: commit}, false
}

// hfHolds reports whether the Hugging Face cache may hold one of the
// missing files, before anything is written for them.
func (s *Store) hfHolds(miss []string) bool {
	if s.hf == nil || len(miss) == 0 {
		return false
	}
	lock, err := ReadLock(s.lockPath)
	if err != nil {
		return true // let the pull report it
	}
	want := map[string]bool{}
	for _, m := range miss {
		want[m] = true
	}
	for _, f := range s.manifest.Files {
		if cands, _, _ := s.offlineCandidates(f, lock); want[f.Rel()] && len(cands) > 0 {
			return true
		}
	}
	return false
}

// adoptOffline fills the missing files from the Hugging Face cache without
// the network. A file pinned by the lock is looked for at the pinned commit
// and must have the pinned sha256; an unpinned one at the commit its
// revision names in the cache's refs, and must match the etag its snapshot
// links to (a snapshot file that is not such a link cannot be verified and
// is not used). It returns the files taken.
func (s *Store) adoptOffline(miss []string, res *PullResult) error {
	if s.hf == nil || len(miss) == 0 {
		return nil
	}
	lock, err := ReadLock(s.lockPath)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, m := range miss {
		want[m] = true
	}
	origins, err := readOrigins(s.dir.Root)
	if err != nil {
		return err
	}
	for _, f := range s.manifest.Files {
		if !want[f.Rel()] {
			continue
		}
		cands, entry, pinned := s.offlineCandidates(f, lock)
		sum, used, o, found := s.fromHFCache(f, cands, func(c hfCandidate, sum, gitSum string) bool {
			if pinned {
				return sum == entry.SHA256
			}
			return c.ETag != "" && matchesETag(c.ETag, sum, gitSum)
		})
		if !found {
			continue
		}
		if !pinned {
			fi, err := os.Stat(s.path(f.Rel()))
			if err != nil {
				return fmt.Errorf("%s: %w", f.Rel(), err)
			}
			entry.Size, entry.SHA256, entry.ETag = fi.Size(), sum, used.ETag
			lock.Set(entry)
			if err := WriteLock(s.lockPath, lock); err != nil {
				return err
			}
		}
		origins[f.Rel()] = o
		if err := writeOrigins(s.dir.Root, origins); err != nil {
			return err
		}
		res.FromHFCache = append(res.FromHFCache, f.Rel())
		res.Commits[f.Repo] = entry.Commit
	}
	return nil
}
