package modelstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/config"
)

// modelsSubdir holds the cache's model directories, one per set of
// revisions.
const modelsSubdir = "models"

// Options configure a Store.
type Options struct {
	// Model is the catalog tag whose files the store holds; empty means
	// catalog.Default. A tag this build cannot run is refused by Open.
	Model string
	// ModelDir is a local directory in the contract layout (MCLIP_MODEL_DIR).
	// When set it is used as is: no network, no cache.
	ModelDir string
	// CacheDir is the cache root; empty means DefaultCacheDir.
	CacheDir string
	// Variant: fp32, int8, fp16 or auto (empty means fp32).
	Variant Variant
	// Revisions of the two repositories; empty means "main".
	Revisions Revisions
	// Endpoint is the hub (HF_ENDPOINT); empty means DefaultEndpoint. Only
	// https is accepted, or http on a loopback host.
	Endpoint string
	// Token is sent as "Authorization: Bearer" to the hub's host only
	// (HF_TOKEN). It never appears in errors or logs.
	Token string
	// Offline forbids the network (HF_HUB_OFFLINE=1).
	Offline bool
	// HFCache is huggingface_hub's cache (see HFCacheDir): a file it holds
	// at the wanted commit, or under the hub's etag, is hashed and taken
	// (hard-linked, else copied) instead of downloaded. Empty means none.
	HFCache string
	// LockFile overrides the lock file's path (see LockFileName).
	LockFile string
	// Update accepts files that changed upstream and rewrites their lock
	// entries.
	Update bool
	// AllowPull lets Resolve pull a missing model.
	AllowPull bool
	// VerifyHashes makes Resolve hash every file against the lock instead of
	// comparing sizes.
	VerifyHashes bool
	// Log receives progress (a bar when it is a terminal) and notes; nil
	// discards them.
	Log io.Writer
	// HTTPClient is used for the hub; nil means http.DefaultClient.
	HTTPClient *http.Client
	// CPU picks the int8 graph; nil means DetectCPU.
	CPU *CPU
	// Manifest replaces the built-in file list (other repositories, tests);
	// it is validated like the built-in one.
	Manifest *Manifest
}

// OptionsFor returns the options of cfg's settings: the model, its directory,
// cache, variant, lock file, hub and Hugging Face cache (config reads them
// from MCLIP_MODEL_DIR, MCLIP_CACHE_DIR, MCLIP_VARIANT, MCLIP_MODELS_LOCK,
// HF_ENDPOINT, HF_TOKEN or HUGGING_FACE_HUB_TOKEN, HF_HUB_OFFLINE,
// HF_HUB_CACHE and HF_HOME; the model from MCLIP_MODEL). Without a home
// directory to place the Hugging Face cache in, none is read.
func OptionsFor(cfg config.Config) (Options, error) {
	v, err := ParseVariant(cfg.Variant)
	if err != nil {
		return Options{}, fmt.Errorf("%s: %w", config.EnvVariant, err)
	}
	if _, err := catalog.Lookup(cfg.Model); err != nil {
		return Options{}, fmt.Errorf("%s: %w", config.EnvModel, err)
	}
	model := cfg.Model
	if model == catalog.Default {
		model = "" // empty is the default
	}
	hf, err := HFCacheDir(cfg.HubCache, cfg.HFHome)
	if err != nil {
		hf = ""
	}
	return Options{Model: model, ModelDir: cfg.ModelDir, CacheDir: cfg.CacheDir, Variant: v, LockFile: cfg.LockFile,
		Endpoint: cfg.HubEndpoint, Token: cfg.HubToken, Offline: cfg.HubOffline, HFCache: hf}, nil
}

// DefaultCacheDir is the cache root when Options.CacheDir (MCLIP_CACHE_DIR)
// is empty: $XDG_CACHE_HOME/mclip, else ~/.cache/mclip.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "mclip"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("model cache: no %s, XDG_CACHE_HOME or home directory: %w", config.EnvCacheDir, err)
	}
	return filepath.Join(home, ".cache", "mclip"), nil
}

// Store is the model files of one variant: in the cache (pulled from the
// hub) or in a local MODEL_DIR.
type Store struct {
	opts     Options
	model    catalog.Model
	manifest Manifest
	reason   string
	dir      Dir
	local    bool
	lockPath string
	log      io.Writer
	hf       *hfCache // nil: none read
}

// Open resolves the variant and the directory; it touches neither the disk
// nor the network.
func Open(opts Options) (*Store, error) {
	cpu := DetectCPU()
	if opts.CPU != nil {
		cpu = *opts.CPU
	}
	v, err := checkVariant(opts.Variant)
	if err != nil {
		return nil, err
	}
	model, err := catalog.Runnable(opts.Model)
	if err != nil {
		return nil, err
	}
	s := &Store{opts: opts, model: model, log: redactWriter{w: opts.Log, token: opts.Token}}
	if opts.Log == nil {
		s.log = io.Discard
	}
	_, s.reason = ResolveVariant(v, cpu)
	if opts.Manifest != nil {
		if err := opts.Manifest.Validate(); err != nil {
			return nil, err
		}
		s.manifest = *opts.Manifest
	} else if s.manifest, err = ManifestForModel(model, v, cpu, opts.Revisions); err != nil {
		return nil, err
	}
	switch {
	case opts.ModelDir != "":
		abs, err := filepath.Abs(opts.ModelDir)
		if err != nil {
			return nil, fmt.Errorf("model directory: %w", err)
		}
		s.dir, s.local = LocalDir(abs, model), true
	default:
		root := opts.CacheDir
		if root == "" {
			if root, err = DefaultCacheDir(); err != nil {
				return nil, err
			}
		}
		abs, err := filepath.Abs(root)
		if err != nil {
			return nil, fmt.Errorf("model cache: %w", err)
		}
		s.dir = Dir{Root: filepath.Join(abs, modelsSubdir, cacheSubdir(model.Tag, s.manifest.key())), Model: dirModel(model.Tag)}
		if opts.HFCache != "" {
			hf, err := filepath.Abs(opts.HFCache)
			if err != nil {
				return nil, fmt.Errorf("Hugging Face cache: %w", err)
			}
			s.hf = &hfCache{root: hf}
		}
	}
	s.lockPath = opts.LockFile
	if s.lockPath == "" {
		s.lockPath = filepath.Join(s.dir.Root, LockFileName)
	}
	return s, nil
}

// cacheSubdir is a model's directory under CACHE/models: the default
// model's files sit directly in the directory of their revisions, every
// other model's in a directory named by its tag, so that two models never
// share files.
func cacheSubdir(tag, revisions string) string {
	if tag == catalog.Default {
		return revisions
	}
	return filepath.Join(tag, revisions)
}

// dirModel is Dir.Model for a tag: empty for the default.
func dirModel(tag string) string {
	if tag == catalog.Default {
		return ""
	}
	return tag
}

// key names the cache directory of a manifest's revisions: "main" for the
// defaults, else the revisions with unsafe characters replaced.
func (m Manifest) key() string {
	revs := map[string]bool{}
	var order []string
	for _, f := range m.Files {
		if !revs[f.Revision] {
			revs[f.Revision] = true
			order = append(order, f.Revision)
		}
	}
	k := strings.Join(order, "_")
	if k == "" {
		k = DefaultRevision
	}
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '.' || r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '-'
	}, k)
}

// Dir is the model directory, usable as MODEL_DIR once complete.
func (s *Store) Dir() Dir { return s.dir }

// Local reports whether the directory is a user's MODEL_DIR (no network).
func (s *Store) Local() bool { return s.local }

// Model is the catalog entry of the store's model.
func (s *Store) Model() catalog.Model { return s.model }

// Manifest is the variant's file list.
func (s *Store) Manifest() Manifest { return s.manifest }

// Variant is the resolved variant and why it was chosen.
func (s *Store) Variant() (Variant, string) { return s.manifest.Variant, s.reason }

// LockPath is the lock file's path.
func (s *Store) LockPath() string { return s.lockPath }

func (s *Store) path(rel string) string { return filepath.Join(s.dir.Root, filepath.FromSlash(rel)) }

// filePath is where a manifest file lies in the directory: under its
// tower's directory, or at its repository path in a snapshot.
func (s *Store) filePath(f File) string {
	if s.dir.Snapshot {
		return filepath.Join(s.dir.Root, filepath.FromSlash(f.Path))
	}
	return s.path(f.Rel())
}

// State of one file on disk against the lock.
type State string

const (
	StateOK       State = "ok"       // present; size (Status) or sha256 (Verify) matches the lock
	StateMissing  State = "missing"  // not on disk
	StateUnpinned State = "unpinned" // on disk, not in the lock
	StateModified State = "modified" // differs from the lock
)

// FileStatus is one manifest file's state.
type FileStatus struct {
	File
	State  State
	Size   int64  // on disk, or in the lock when missing
	SHA256 string // computed by Verify
	Locked LockEntry
	Pinned bool
}

// Status compares the files with the lock by presence and size, without
// hashing.
func (s *Store) Status() ([]FileStatus, error) {
	lock, err := ReadLock(s.lockPath)
	if err != nil {
		return nil, err
	}
	out := make([]FileStatus, 0, len(s.manifest.Files))
	for _, f := range s.manifest.Files {
		st := FileStatus{File: f}
		st.Locked, st.Pinned = lock.Entry(f.Rel())
		fi, err := os.Stat(s.filePath(f))
		switch {
		case err != nil || !fi.Mode().IsRegular():
			st.State, st.Size = StateMissing, st.Locked.Size
		case !st.Pinned:
			st.State, st.Size = StateUnpinned, fi.Size()
		case fi.Size() != st.Locked.Size:
			st.State, st.Size = StateModified, fi.Size()
		default:
			st.State, st.Size = StateOK, fi.Size()
		}
		out = append(out, st)
	}
	return out, nil
}

// Verify hashes every file and compares it with the lock. The error lists
// every file that is missing, unpinned or modified; in a local MODEL_DIR
// without a lock file, only missing files are errors.
func (s *Store) Verify(ctx context.Context) ([]FileStatus, error) {
	sts, err := s.Status()
	if err != nil {
		return nil, s.redact(err)
	}
	var bad []string
	for i := range sts {
		st := &sts[i]
		if err := ctx.Err(); err != nil {
			return sts, err
		}
		if st.State == StateMissing {
			bad = append(bad, st.Rel()+": missing")
			continue
		}
		sum, _, err := hashFile(s.filePath(st.File))
		if err != nil {
			return sts, s.redact(err)
		}
		st.SHA256 = sum
		switch {
		case !st.Pinned && s.local && !exists(s.lockPath):
			// A local MODEL_DIR without a lock file (generated, copied by
			// hand): present is all that can be checked.
			st.State = StateUnpinned
		case !st.Pinned:
			st.State = StateUnpinned
			bad = append(bad, fmt.Sprintf("%s: not in the lock file %s (sha256 %s)", st.Rel(), s.lockPath, sum))
		case sum != st.Locked.SHA256:
			st.State = StateModified
			bad = append(bad, fmt.Sprintf("%s: sha256 %s, the lock pins %s", st.Rel(), sum, st.Locked.SHA256))
		default:
			st.State = StateOK
		}
	}
	if len(bad) > 0 {
		hint := "run `" + s.pullCommand(true) + "` to fetch them again"
		if s.local {
			hint = config.EnvModelDir + " is used as is: restore the files, or unset it to use the cache"
		}
		return sts, &VerifyError{Dir: s.dir.Root, Problems: bad, Hint: hint}
	}
	return sts, nil
}

// ErrVerify marks a failed verification, ErrIncomplete a model directory
// that lacks files, ErrChanged an upstream file that differs from the lock,
// ErrCorrupt a download whose hash differs from the hub's.
var (
	ErrVerify     = errors.New("model files do not match the lock")
	ErrIncomplete = errors.New("model files missing")
	ErrChanged    = errors.New("model file changed upstream")
	ErrCorrupt    = errors.New("download corrupt")
)

// VerifyError lists the files that failed verification.
type VerifyError struct {
	Dir      string
	Problems []string
	Hint     string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("%s: %s:\n  %s\n%s", e.Dir, ErrVerify, strings.Join(e.Problems, "\n  "), e.Hint)
}

func (e *VerifyError) Unwrap() error { return ErrVerify }

// IncompleteError names the missing files and the command that fetches them.
type IncompleteError struct {
	Dir     string
	Variant Variant
	Missing []string
	Why     string // offline, unreachable hub, local MODEL_DIR
	Hint    string
	Cause   error
}

func (e *IncompleteError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s lacks the %s model files %s", e.Dir, e.Variant, strings.Join(e.Missing, ", "))
	if e.Why != "" {
		fmt.Fprintf(&b, " (%s)", e.Why)
	}
	if e.Cause != nil {
		fmt.Fprintf(&b, ": %v", e.Cause)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "; %s", e.Hint)
	}
	return b.String()
}

func (e *IncompleteError) Unwrap() []error {
	if e.Cause != nil {
		return []error{ErrIncomplete, e.Cause}
	}
	return []error{ErrIncomplete}
}

// pullCommand is the command line that fetches this store's files.
func (s *Store) pullCommand(force bool) string {
	cmd := "mclip models pull --variant " + string(s.manifest.Variant)
	if s.model.Tag != catalog.Default {
		cmd += " --model " + s.model.Tag
	}
	if s.opts.CacheDir != "" {
		cmd += " --cache-dir " + s.opts.CacheDir
	}
	if force {
		cmd += " --update"
	}
	return cmd
}

// incomplete returns the manifest files absent from disk, or present with a
// size other than the lock's.
func (s *Store) incomplete() ([]string, error) {
	sts, err := s.Status()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, st := range sts {
		if st.State == StateMissing || st.State == StateModified || (st.State == StateUnpinned && !s.local) {
			out = append(out, st.Rel())
		}
	}
	return out, nil
}

// Resolve returns the model directory start-up code should load: the local
// MODEL_DIR when one is set (checked with Dir.Missing, no network), else the
// cache, checked against its lock (sizes, or sha256 with VerifyHashes), and
// pulled first when files are missing and AllowPull is set and the network
// allowed. Missing files the Hugging Face cache holds are taken from it
// without the network either way.
func Resolve(ctx context.Context, opts Options) (Dir, error) {
	s, err := Open(opts)
	if err != nil {
		return Dir{}, err
	}
	return s.Resolve(ctx)
}

// Resolve is the package-level Resolve for an open store.
func (s *Store) Resolve(ctx context.Context) (Dir, error) {
	if s.local {
		if miss := s.dir.Missing(s.manifest.Variant); len(miss) > 0 {
			e := &IncompleteError{Dir: s.dir.Root, Variant: s.manifest.Variant, Missing: miss,
				Why:  config.EnvModelDir + " is used as is, without network",
				Hint: "complete it, or unset " + config.EnvModelDir + " to use the cache (`mclip models pull`)"}
			if s.dir.Snapshot {
				repo := s.model.Text.Repo
				e.Why = config.EnvModelDir + " is read as a snapshot of " + repo + " (no text/ or vision/ directory), used as is, without network"
				e.Hint = "fetch them with `huggingface-cli download " + repo + " --local-dir " + s.dir.Root + "`, or unset " + config.EnvModelDir + " to use the cache"
			}
			return Dir{}, e
		}
		return s.dir, nil
	}
	miss, err := s.incomplete()
	if err != nil {
		return Dir{}, s.redact(err)
	}
	if len(miss) > 0 {
		if !s.opts.AllowPull || s.opts.Offline {
			// Without the network the Hugging Face cache may still have them.
			if _, err := s.pullOffline(ctx, nil); err != nil {
				return Dir{}, s.redact(err)
			}
		} else if _, err := s.Pull(ctx); err != nil {
			return Dir{}, err
		}
	}
	if s.opts.VerifyHashes {
		if _, err := s.Verify(ctx); err != nil {
			return Dir{}, err
		}
	}
	return s.dir, nil
}

func (s *Store) incompleteError(miss []string, cause error) error {
	e := &IncompleteError{Dir: s.dir.Root, Variant: s.manifest.Variant, Missing: miss, Cause: cause,
		Hint: "fetch them with `" + s.pullCommand(false) + "`"}
	switch {
	case s.opts.Offline && s.hf != nil:
		e.Why = config.EnvHubOffline + " is set, and the Hugging Face cache " + s.hf.root + " lacks them"
		e.Hint = "unset " + config.EnvHubOffline + " and fetch them with `" + s.pullCommand(false) + "`"
	case s.opts.Offline:
		e.Why = config.EnvHubOffline + " is set"
		e.Hint = "unset " + config.EnvHubOffline + " and fetch them with `" + s.pullCommand(false) + "`"
	case cause != nil:
		e.Why = "the hub is unreachable"
	}
	return e
}

// redact removes the token from an error's text, keeping it unwrappable.
func (s *Store) redact(err error) error {
	if err == nil || s.opts.Token == "" || !strings.Contains(err.Error(), s.opts.Token) {
		return err
	}
	return redactedError{msg: strings.ReplaceAll(err.Error(), s.opts.Token, "[HF_TOKEN]"), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

// redactWriter removes the token from log lines.
type redactWriter struct {
	w     io.Writer
	token string
}

func (r redactWriter) Write(b []byte) (int, error) {
	if r.token == "" || !strings.Contains(string(b), r.token) {
		return r.w.Write(b)
	}
	if _, err := io.WriteString(r.w, strings.ReplaceAll(string(b), r.token, "[HF_TOKEN]")); err != nil {
		return 0, err
	}
	return len(b), nil
}

// logWriter is the writer progress bars draw on: the terminal itself when
// Log is one (so the bar is detected), else the redacting writer.
func (s *Store) logWriter() io.Writer {
	if f, ok := s.opts.Log.(*os.File); ok {
		return f // progress lines carry file names and sizes only
	}
	return s.log
}

func exists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// removeIfEmpty removes dir when it holds nothing (no partial download).
func removeIfEmpty(dir string) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) == 0 {
		_ = os.Remove(dir)
	}
}
