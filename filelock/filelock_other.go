//go:build !unix

package filelock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// Lock takes an exclusive lock by creating path+".excl" exclusively,
// waiting until it is free or ctx ends. Unlike flock, a killed holder
// leaves the file: remove it by hand.
func Lock(ctx context.Context, path string) (unlock func(), err error) {
	path += ".excl"
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("lock: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for another process holding %s (remove it if none runs): %w", path, ctx.Err())
		case <-time.After(pollEvery):
		}
	}
}
