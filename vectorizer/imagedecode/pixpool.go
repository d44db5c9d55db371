package imagedecode

import "sync"

// Large pixel buffers are reused between decodes: a fresh 50 MB buffer
// (a 4096x4096 image) costs the kernel a page fault and a zeroed page for
// every 4 KiB the decoder writes, tens of milliseconds per image, while a
// reused one is written in place. Only decoders that write every byte of
// the image take buffers from here (they are not cleared), and only
// callers that are done with an image give its buffer back (RGB.Release).
//
// The pool is a sync.Pool, so it holds no more buffers than were in use at
// once (one per concurrent decode), and what it holds is dropped by the
// garbage collector within two collections: in a busy process (Weaviate)
// soon, in an idle one within the runtime's forced collection every two
// minutes, after which the scavenger returns the pages to the OS.
var pixPool sync.Pool // of *[]byte

// pooledMin is the smallest buffer worth pooling (about 1.4 megapixels):
// smaller ones come from the heap's already mapped pages anyway.
const pooledMin = 4 << 20

// newPooledRGB returns a w x h image whose pixels are NOT cleared: the
// caller must write every byte. Large buffers come from the pool.
func newPooledRGB(w, h int) *RGB {
	n := 3 * w * h
	if n < pooledMin {
		return NewRGB(w, h)
	}
	if p, _ := pixPool.Get().(*[]byte); p != nil && cap(*p) >= n {
		return &RGB{Width: w, Height: h, Pix: (*p)[:n], pooled: true}
	}
	// A pooled buffer that is too small is left to the collector.
	return &RGB{Width: w, Height: h, Pix: make([]byte, n), pooled: true}
}

// Release gives img's pixel buffer back for reuse by a later Decode and
// sets img.Pix to nil; img's pixels must not be used afterwards (Width and
// Height stay). It does nothing for images whose buffer did not come from
// the pool, so a caller done with an image may always call it.
func (img *RGB) Release() {
	if img == nil || !img.pooled || img.Pix == nil {
		return
	}
	p := img.Pix[:0]
	img.Pix, img.pooled = nil, false
	pixPool.Put(&p)
}
