package modelstore

import (
	"errors"
	"time"
)

// SetStallTimeout shortens the download watchdog for a test; the returned
// func restores it.
func SetStallTimeout(d time.Duration) (restore func()) {
	old := stallTimeout
	stallTimeout = d
	return func() { stallTimeout = old }
}

// FailHardLinks makes taking a file from the Hugging Face cache copy it, as
// across file systems; the returned func restores hard links.
func FailHardLinks() (restore func()) {
	old := linkFile
	linkFile = func(string, string) error { return errors.New("cross-device link") }
	return func() { linkFile = old }
}
