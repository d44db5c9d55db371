package filelock

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A second Lock on a held path waits for Unlock, whether its ctx can end
// (polling) or not (waiting in the kernel), and gives up when ctx ends.
func TestLockWaitsForTheHolder(t *testing.T) {
	tests := []struct {
		name    string
		ctx     func() (context.Context, context.CancelFunc)
		release bool // the holder unlocks while the second waits
		wantErr error
	}{
		{"ctx that cannot end, holder unlocks", func() (context.Context, context.CancelFunc) {
			return context.Background(), func() {}
		}, true, nil},
		{"ctx with a deadline, holder unlocks", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), time.Minute)
		}, true, nil},
		{"ctx ends first", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 400*time.Millisecond)
		}, false, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.lock")
			unlock, err := Lock(context.Background(), path)
			require.NoError(t, err)
			ctx, cancel := tt.ctx()
			defer cancel()
			type result struct {
				unlock func()
				err    error
			}
			got := make(chan result, 1)
			go func() {
				u, err := Lock(ctx, path)
				got <- result{u, err}
			}()
			select {
			case r := <-got:
				t.Fatalf("the second Lock did not wait for the first: %v", r.err)
			case <-time.After(150 * time.Millisecond):
			}
			if tt.release {
				unlock()
			} else {
				defer unlock()
			}
			r := <-got
			if tt.wantErr != nil {
				assert.ErrorIs(t, r.err, tt.wantErr)
				assert.ErrorContains(t, r.err, path)
				return
			}
			require.NoError(t, r.err)
			r.unlock()
		})
	}
}

func TestLockReportsAnUnusablePath(t *testing.T) {
	_, err := Lock(context.Background(), filepath.Join(t.TempDir(), "missing", "x.lock"))
	assert.ErrorContains(t, err, "lock: ")
}
