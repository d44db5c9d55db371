//go:build !unix

package onnxsession

// lockFile does nothing where flock is missing: concurrent first starts
// then each build the cache entry, and the last rename wins.
func lockFile(string) (func(), error) { return func() {}, nil }
