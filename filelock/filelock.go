// Package filelock serializes processes on a lock file: the model store's
// pulls of one directory, and the optimized-graph cache's builds of one
// entry (the nodes of a cluster sharing a model directory start at once).
package filelock

import "time"

// pollEvery is how often a waiter that ctx can stop tries the lock again.
const pollEvery = 50 * time.Millisecond
