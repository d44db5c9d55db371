package modelstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// LockFileName is the lock file's name inside a cached model directory.
//
// The lock file works like go.sum: the first pull of a file records the
// repository, the revision asked for, the commit the hub resolved it to
// (X-Repo-Commit), the size, the hub's ETag and the sha256 of every file, by
// its MODEL_DIR-relative path. Later pulls compare what the hub serves with
// it, and `mclip models verify` and start-up (Resolve) compare the files on
// disk with it. A file that changed upstream is an error naming the file and
// both hashes; `mclip models pull --update` accepts the change and rewrites
// the entries.
//
// By default it lives in the model directory it describes,
// CACHE/models/<revisions>/mclip-models.lock, so a copied model directory
// stays verifiable. Options.LockFile (the --lock flag, MCLIP_MODELS_LOCK) puts
// it elsewhere, for example in a project's repository to pin the models the
// way go.sum pins modules.
const LockFileName = "mclip-models.lock"

const lockVersion = 1

// LockEntry pins one file.
type LockEntry struct {
	Path     string `json:"path"` // MODEL_DIR-relative: "text/onnx/model.onnx"
	Repo     string `json:"repo"`
	Revision string `json:"revision"`
	Commit   string `json:"commit"`
	Size     int64  `json:"size"`
	ETag     string `json:"etag"` // sha256 for LFS files, else git blob sha1
	SHA256   string `json:"sha256"`
}

// Lock is the content of a lock file.
type Lock struct {
	Version int         `json:"version"`
	Files   []LockEntry `json:"files"`
}

// Entry returns the entry of a MODEL_DIR-relative path.
func (l *Lock) Entry(rel string) (LockEntry, bool) {
	for _, e := range l.Files {
		if e.Path == rel {
			return e, true
		}
	}
	return LockEntry{}, false
}

// Set adds or replaces an entry.
func (l *Lock) Set(e LockEntry) {
	for i := range l.Files {
		if l.Files[i].Path == e.Path {
			l.Files[i] = e
			return
		}
	}
	l.Files = append(l.Files, e)
	sort.Slice(l.Files, func(i, j int) bool { return l.Files[i].Path < l.Files[j].Path })
}

// ReadLock reads a lock file; a missing one is an empty lock. Every entry is
// checked: a path that could leave the model directory, or a malformed hash,
// makes the whole file invalid.
func ReadLock(path string) (*Lock, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Lock{Version: lockVersion}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lock file: %w", err)
	}
	var l Lock
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("lock file %s: %w", path, err)
	}
	if l.Version != lockVersion {
		return nil, fmt.Errorf("lock file %s: version %d, want %d", path, l.Version, lockVersion)
	}
	seen := map[string]bool{}
	for _, e := range l.Files {
		if err := checkLockEntry(e); err != nil {
			return nil, fmt.Errorf("lock file %s: %w", path, err)
		}
		if seen[e.Path] {
			return nil, fmt.Errorf("lock file %s: %s listed twice", path, e.Path)
		}
		seen[e.Path] = true
	}
	return &l, nil
}

func checkLockEntry(e LockEntry) error {
	if err := CheckRelPath(e.Path); err != nil {
		return err
	}
	tower, _, _ := cutSlash(e.Path)
	if tower != TextDir && tower != VisionDir {
		return fmt.Errorf("%s: not under %s/ or %s/", e.Path, TextDir, VisionDir)
	}
	if err := checkRepo(e.Repo); err != nil {
		return fmt.Errorf("%s: %w", e.Path, err)
	}
	if !isHex(e.SHA256, 64) {
		return fmt.Errorf("%s: sha256 %q is not 64 lowercase hex digits", e.Path, e.SHA256)
	}
	if e.Size < 0 {
		return fmt.Errorf("%s: negative size", e.Path)
	}
	return nil
}

func cutSlash(p string) (string, string, bool) {
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			return p[:i], p[i+1:], true
		}
	}
	return p, "", false
}

// WriteLock writes the lock file atomically (a temporary file renamed).
func WriteLock(path string, l *Lock) error {
	l.Version = lockVersion
	sort.Slice(l.Files, func(i, j int) bool { return l.Files[i].Path < l.Files[j].Path })
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return fmt.Errorf("lock file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("lock file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("lock file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("lock file %s: %w", path, err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("lock file %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("lock file %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("lock file: %w", err)
	}
	return nil
}
