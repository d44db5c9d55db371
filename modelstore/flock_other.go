//go:build !unix

package modelstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// lockPath takes an exclusive lock by creating path exclusively, waiting
// until it is free or ctx ends. Unlike flock, a killed pull leaves the file:
// remove it by hand.
func lockPath(ctx context.Context, path string) (unlock func(), err error) {
	path += ".excl"
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("cache lock: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for another pull holding %s (remove it if none runs): %w", path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
