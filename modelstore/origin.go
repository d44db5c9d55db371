package modelstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// originsName records, inside a cached model directory, where each file
// came from. It is kept apart from the lock file, which may live in a
// project's repository and must read the same on every machine.
const originsName = ".origins.json"

// Sources of a file in the cache.
const (
	SourceHub     = "hub"      // downloaded; From is the endpoint
	SourceHFCache = "hf-cache" // taken from the Hugging Face cache; From is the file there
)

// Origin says where one file of the model directory came from.
type Origin struct {
	Source string `json:"source"`
	From   string `json:"from"`
	How    string `json:"how,omitempty"` // HowHardLink or HowCopy: from the Hugging Face cache, or from the other tower's same file
}

func readOrigins(dir string) (map[string]Origin, error) {
	b, err := os.ReadFile(filepath.Join(dir, originsName))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]Origin{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("model origins: %w", err)
	}
	m := map[string]Origin{}
	if err := json.Unmarshal(b, &m); err != nil {
		// A damaged record only loses the provenance: start afresh.
		return map[string]Origin{}, nil
	}
	return m, nil
}

// writeOrigins replaces the record atomically.
func writeOrigins(dir string, m map[string]Origin) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("model origins: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+originsName+".*.tmp")
	if err != nil {
		return fmt.Errorf("model origins: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("model origins: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("model origins: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, originsName)); err != nil {
		return fmt.Errorf("model origins: %w", err)
	}
	return nil
}

// FileSource is where one manifest file is, or could come from.
type FileSource struct {
	File
	Present bool
	// Origin is how a present file got into the cache; zero when unknown
	// (pulled before origins were recorded, or a local MODEL_DIR).
	Origin Origin
	// InHFCache, for a missing file, names a file of the Hugging Face cache
	// that a pull would verify and take instead of downloading it.
	InHFCache string
}

// HFCache is the Hugging Face cache directory the store reads; empty when
// it reads none.
func (s *Store) HFCache() string {
	if s.hf == nil {
		return ""
	}
	return s.hf.root
}

// Sources says where each file of the model directory came from, and for
// a missing one whether the Hugging Face cache holds it (at the commit the
// lock pins, else at the revision's commit in the cache's refs). It reads
// only the disk.
func (s *Store) Sources() ([]FileSource, error) {
	lock, err := ReadLock(s.lockPath)
	if err != nil {
		return nil, err
	}
	origins := map[string]Origin{}
	if !s.local {
		if origins, err = readOrigins(s.dir.Root); err != nil {
			return nil, err
		}
	}
	out := make([]FileSource, 0, len(s.manifest.Files))
	for _, f := range s.manifest.Files {
		src := FileSource{File: f, Present: exists(s.path(f.Rel()))}
		if src.Present {
			src.Origin = origins[f.Rel()]
		} else if cands, _, _ := s.offlineCandidates(f, lock); len(cands) > 0 {
			src.InHFCache = cands[0].Path
		}
		out = append(out, src)
	}
	return out, nil
}
