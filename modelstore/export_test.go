package modelstore

import "time"

// SetStallTimeout shortens the download watchdog for a test; the returned
// func restores it.
func SetStallTimeout(d time.Duration) (restore func()) {
	old := stallTimeout
	stallTimeout = d
	return func() { stallTimeout = old }
}
