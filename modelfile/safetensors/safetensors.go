// Package safetensors reads and writes the safetensors format: an 8-byte
// little-endian header length, a JSON header mapping tensor names to dtype,
// shape and [begin, end) byte offsets into the data that follows, and the
// data itself.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"syscall"
)

// MaxHeaderSize bounds the JSON header (the reference implementation uses
// 100 MB).
const MaxHeaderSize = 100 << 20

// MaxFileSize bounds the files Open reads.
const MaxFileSize = 4 << 30

// Dtype is a safetensors element type name.
type Dtype string

// Element types.
const (
	F64  Dtype = "F64"
	F32  Dtype = "F32"
	F16  Dtype = "F16"
	BF16 Dtype = "BF16"
	I64  Dtype = "I64"
	I32  Dtype = "I32"
	I16  Dtype = "I16"
	I8   Dtype = "I8"
	U8   Dtype = "U8"
	Bool Dtype = "BOOL"
)

// Size returns the byte size of one element, or 0 for an unknown dtype.
func (d Dtype) Size() int {
	switch d {
	case F64, I64:
		return 8
	case F32, I32:
		return 4
	case F16, BF16, I16:
		return 2
	case I8, U8, Bool:
		return 1
	default:
		return 0
	}
}

// Info describes one tensor of a file.
type Info struct {
	Dtype       Dtype    `json:"dtype"`
	Shape       []int64  `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// File is a parsed safetensors file held in memory.
type File struct {
	Metadata map[string]string
	tensors  map[string]Info
	data     []byte
	unmap    func() error
}

// OpenMapped maps the file at path read-only instead of reading it, so
// that a multi-gigabyte checkpoint costs the pages touched, shared with
// the page cache, not a copy in the heap; Bytes returns slices of the
// mapping. The File must be closed, and no slice from it used after.
func OpenMapped(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if st.Size() < 8 {
		return nil, fmt.Errorf("safetensors %s: file is %d bytes, too short for the 8-byte header length", path, st.Size())
	}
	if int64(int(st.Size())) != st.Size() {
		return nil, fmt.Errorf("safetensors %s: file is too large to map", path)
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("safetensors: map %s: %w", path, err)
	}
	sf, err := Parse(b)
	if err != nil {
		syscall.Munmap(b)
		return nil, fmt.Errorf("safetensors %s: %w", path, err)
	}
	sf.unmap = func() error { return syscall.Munmap(b) }
	return sf, nil
}

// Close releases the mapping of a File from OpenMapped; it does nothing
// for other Files.
func (f *File) Close() error {
	if f.unmap == nil {
		return nil
	}
	u := f.unmap
	f.unmap, f.data, f.tensors = nil, nil, nil
	return u()
}

// Open reads and parses the file at path.
func Open(path string) (*File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("safetensors %s: file is %d bytes, more than the %d allowed", path, st.Size(), int64(MaxFileSize))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("safetensors %s: %w", path, err)
	}
	return f, nil
}

// Parse validates and parses a whole safetensors file. The returned File
// refers to b.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("file is %d bytes, too short for the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("header length %d exceeds the %d-byte limit", n, MaxHeaderSize)
	}
	if n > uint64(len(b)-8) {
		return nil, fmt.Errorf("header length %d runs past the end of the %d-byte file", n, len(b))
	}
	header := b[8 : 8+n]
	if len(header) == 0 || header[0] != '{' {
		return nil, errors.New("header does not start with '{'")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, fmt.Errorf("header json: %w", err)
	}
	f := &File{tensors: make(map[string]Info, len(raw)), data: b[8+n:]}
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, fmt.Errorf("header __metadata__ must map strings to strings: %w", err)
			}
			continue
		}
		var info Info
		d := json.NewDecoder(bytes.NewReader(msg))
		d.DisallowUnknownFields()
		if err := d.Decode(&info); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		if err := info.check(); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		f.tensors[name] = info
	}
	if err := f.checkLayout(); err != nil {
		return nil, err
	}
	return f, nil
}

func (info Info) check() error {
	es := info.Dtype.Size()
	if es == 0 {
		return fmt.Errorf("unknown dtype %q", info.Dtype)
	}
	if info.Shape == nil {
		return errors.New("missing shape")
	}
	count := int64(1)
	for _, d := range info.Shape {
		if d < 0 {
			return fmt.Errorf("negative dimension in shape %v", info.Shape)
		}
		if d > 0 && count > math.MaxInt64/8/d {
			return fmt.Errorf("shape %v is too large", info.Shape)
		}
		count *= d
	}
	begin, end := info.DataOffsets[0], info.DataOffsets[1]
	if begin < 0 || end < begin {
		return fmt.Errorf("bad data offsets [%d, %d]", begin, end)
	}
	if want := count * int64(es); end-begin != want {
		return fmt.Errorf("data offsets [%d, %d] hold %d bytes, shape %v of %s needs %d", begin, end, end-begin, info.Shape, info.Dtype, want)
	}
	return nil
}

// checkLayout verifies that the tensors tile the data buffer exactly: no
// gaps, no overlaps, nothing past the end.
func (f *File) checkLayout() error {
	names := f.Names()
	sort.Slice(names, func(i, j int) bool {
		a, b := f.tensors[names[i]].DataOffsets, f.tensors[names[j]].DataOffsets
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		return a[1] < b[1]
	})
	pos := int64(0)
	for _, name := range names {
		off := f.tensors[name].DataOffsets
		if off[0] != pos {
			if off[0] < pos {
				return fmt.Errorf("tensor %q at [%d, %d] overlaps the tensor before it", name, off[0], off[1])
			}
			return fmt.Errorf("tensor %q starts at %d, leaving a gap after %d", name, off[0], pos)
		}
		pos = off[1]
	}
	if pos != int64(len(f.data)) {
		return fmt.Errorf("tensors cover %d bytes of data but the file holds %d", pos, len(f.data))
	}
	return nil
}

// Names returns the tensor names in sorted order.
func (f *File) Names() []string {
	out := make([]string, 0, len(f.tensors))
	for n := range f.tensors {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Info returns the description of a tensor.
func (f *File) Info(name string) (Info, bool) {
	info, ok := f.tensors[name]
	return info, ok
}

// Bytes returns a tensor's raw little-endian data.
func (f *File) Bytes(name string) ([]byte, Info, error) {
	info, ok := f.tensors[name]
	if !ok {
		return nil, Info{}, fmt.Errorf("no tensor %q (have %v)", name, f.Names())
	}
	return f.data[info.DataOffsets[0]:info.DataOffsets[1]], info, nil
}

// Float32 returns a floating-point tensor (F32, F16, BF16 or F64) converted
// to float32, with its shape.
func (f *File) Float32(name string) ([]float32, []int64, error) {
	b, info, err := f.Bytes(name)
	if err != nil {
		return nil, nil, err
	}
	n := len(b) / info.Dtype.Size()
	out := make([]float32, n)
	switch info.Dtype {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
	case BF16:
		for i := range out {
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
		}
	case F16:
		for i := range out {
			out[i] = halfToFloat(binary.LittleEndian.Uint16(b[2*i:]))
		}
	default:
		return nil, nil, fmt.Errorf("tensor %q has dtype %s, not a floating-point type", name, info.Dtype)
	}
	return out, append([]int64(nil), info.Shape...), nil
}

// Matrix returns a 2-D floating-point tensor as float32 after checking its
// shape is exactly [rows, cols].
func (f *File) Matrix(name string, rows, cols int64) ([]float32, error) {
	data, shape, err := f.Float32(name)
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 || shape[0] != rows || shape[1] != cols {
		return nil, fmt.Errorf("tensor %q has shape %v, want [%d %d]", name, shape, rows, cols)
	}
	return data, nil
}

func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		v := float32(mant) / 1024 / 16384
		if sign != 0 {
			return -v
		}
		return v
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	default:
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	}
}

// Tensor is a float32 tensor to write.
type Tensor struct {
	Name  string
	Shape []int64
	Data  []float32
}

// Write writes tensors as F32 in the given order, with optional metadata.
// The header is padded with spaces to a multiple of 8 bytes.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	header := make(map[string]any, len(tensors)+1)
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	pos := int64(0)
	for _, t := range tensors {
		if t.Name == "" || t.Name == "__metadata__" {
			return fmt.Errorf("invalid tensor name %q", t.Name)
		}
		if _, dup := header[t.Name]; dup {
			return fmt.Errorf("tensor %q given twice", t.Name)
		}
		count := int64(1)
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("tensor %q: negative dimension in shape %v", t.Name, t.Shape)
			}
			count *= d
		}
		if count != int64(len(t.Data)) {
			return fmt.Errorf("tensor %q: shape %v holds %d values, got %d", t.Name, t.Shape, count, len(t.Data))
		}
		shape := t.Shape
		if shape == nil {
			shape = []int64{}
		}
		end := pos + 4*count
		header[t.Name] = Info{Dtype: F32, Shape: shape, DataOffsets: [2]int64{pos, end}}
		pos = end
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("encode safetensors header: %w", err)
	}
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	buf := make([]byte, 8, 8+len(hj))
	binary.LittleEndian.PutUint64(buf, uint64(len(hj)))
	if _, err := w.Write(append(buf, hj...)); err != nil {
		return fmt.Errorf("write safetensors header: %w", err)
	}
	// Tensors are encoded a chunk at a time, so that writing a
	// multi-gigabyte embedding table does not hold a second copy of it.
	const chunk = 1 << 18
	buf = make([]byte, 4*chunk)
	for _, t := range tensors {
		for start := 0; start < len(t.Data); start += chunk {
			part := t.Data[start:min(start+chunk, len(t.Data))]
			for i, v := range part {
				binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
			}
			if _, err := w.Write(buf[:4*len(part)]); err != nil {
				return fmt.Errorf("write safetensors tensor %q: %w", t.Name, err)
			}
		}
	}
	return nil
}

// WriteFile writes tensors to path (see Write).
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if err := Write(f, tensors, metadata); err != nil {
		f.Close()
		return fmt.Errorf("safetensors %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("safetensors %s: %w", path, err)
	}
	return nil
}
