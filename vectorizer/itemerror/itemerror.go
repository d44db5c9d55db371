// Package itemerror classifies the error of one item of an encoder call:
// which item it is, and whether the input or the encoder is at fault.
//
// The vectorizer makes these errors; the Weaviate module, the inference API
// and the CLI read them, so an item's error means the same in all three.
package itemerror

import (
	"errors"
	"fmt"
)

// Error is the error of one item of a call: the item's kind and its index
// in the call, kept as data, and what went wrong. Its message starts with
// both ("image 12: decode png: ..."), which says which input failed to a
// caller that passed them in order; a caller that names the item its own
// way (an object's property, a request's own index) shows Cause.
type Error struct {
	Kind  string // "text" or "image"
	Index int    // the item's place in the call
	Err   error
}

func (e *Error) Error() string { return fmt.Sprintf("%s %d: %v", e.Kind, e.Index, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// Internal wraps an item's error that is the encoder's fault (a model call
// that failed, a recovered panic, a broken result), not the input's: an
// API answers it with a 5xx rather than a 4xx, and shows its text only in
// the server log, since it may name files.
type Internal struct{ Err error }

func (e *Internal) Error() string { return e.Err.Error() }
func (e *Internal) Unwrap() error { return e.Err }

// IsInternal reports whether err, or an error it wraps, is an Internal.
func IsInternal(err error) bool {
	var in *Internal
	return errors.As(err, &in)
}

// Cause is what went wrong with the item, without its place in the call:
// the Err of the first Error in err's chain, or err itself.
func Cause(err error) error {
	var item *Error
	if errors.As(err, &item) {
		return item.Err
	}
	return err
}
