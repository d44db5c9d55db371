package clipgraph

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/mclip-go/mclip/modelfile/safetensors"
)

// Tensor is one weight: its element type, shape and little-endian data.
type Tensor struct {
	Dtype safetensors.Dtype
	Shape []int64
	Data  []byte
}

// Source gives a checkpoint's weights by transformers' CLIPModel names
// (text_model.embeddings.token_embedding.weight, ...).
type Source interface {
	// Tensor returns the named weight, or an error wrapping ErrMissing.
	Tensor(name string) (Tensor, error)
}

// ErrMissing is wrapped by the error for a weight a Source does not hold.
var ErrMissing = errors.New("weight missing from the checkpoint")

// SafetensorsSource reads weights from a parsed safetensors file (see
// safetensors.OpenMapped for multi-gigabyte files): the Data of what it
// returns is a slice of the file's bytes, not a copy.
type SafetensorsSource struct{ File *safetensors.File }

// Tensor implements Source.
func (s SafetensorsSource) Tensor(name string) (Tensor, error) {
	info, ok := s.File.Info(name)
	if !ok {
		return Tensor{}, fmt.Errorf("%w: %s", ErrMissing, name)
	}
	b, _, err := s.File.Bytes(name)
	if err != nil {
		return Tensor{}, err
	}
	return Tensor{Dtype: info.Dtype, Shape: info.Shape, Data: b}, nil
}

// Names lists the file's tensors.
func (s SafetensorsSource) Names() []string { return s.File.Names() }

// MapSource is a Source over tensors held in memory (for sources that
// transform another's weights, and tests).
type MapSource map[string]Tensor

// Tensor implements Source.
func (m MapSource) Tensor(name string) (Tensor, error) {
	t, ok := m[name]
	if !ok {
		return Tensor{}, fmt.Errorf("%w: %s", ErrMissing, name)
	}
	return t, nil
}

// Names lists the tensors in sorted order.
func (m MapSource) Names() []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// F32Tensor returns a float32 Tensor holding data.
func F32Tensor(shape []int64, data []float32) Tensor {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return Tensor{Dtype: safetensors.F32, Shape: append([]int64(nil), shape...), Data: b}
}

func numel(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

func sameShape(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// check verifies a tensor's dtype is a float type and its shape is want.
func (t Tensor) check(name string, want []int64) error {
	switch t.Dtype {
	case safetensors.F32, safetensors.F16, safetensors.BF16:
	default:
		return fmt.Errorf("weight %s has dtype %s; want F32, F16 or BF16", name, t.Dtype)
	}
	if !sameShape(t.Shape, want) {
		return fmt.Errorf("weight %s has shape %v; the config wants %v", name, t.Shape, want)
	}
	if int64(len(t.Data)) != numel(t.Shape)*int64(t.Dtype.Size()) {
		return fmt.Errorf("weight %s holds %d bytes for shape %v of %s", name, len(t.Data), t.Shape, t.Dtype)
	}
	return nil
}

// float32s decodes a float tensor to float32 (F16 and BF16 exactly).
func (t Tensor) float32s() []float32 {
	n := len(t.Data) / t.Dtype.Size()
	out := make([]float32, n)
	switch t.Dtype {
	case safetensors.F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
	case safetensors.BF16:
		for i := range out {
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(t.Data[2*i:])) << 16)
		}
	case safetensors.F16:
		for i := range out {
			out[i] = halfToFloat(binary.LittleEndian.Uint16(t.Data[2*i:]))
		}
	}
	return out
}

// rawF32 returns the tensor's data as little-endian float32 bytes: the
// data itself when it is F32, else a converted copy.
func (t Tensor) rawF32() []byte {
	if t.Dtype == safetensors.F32 {
		return t.Data
	}
	return f32Bytes(t.float32s())
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// transposedF32 returns a [rows, cols] tensor transposed to [cols, rows]
// as little-endian float32 bytes.
func (t Tensor) transposedF32() []byte {
	rows, cols := int(t.Shape[0]), int(t.Shape[1])
	out := make([]byte, 4*rows*cols)
	es := t.Dtype.Size()
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			var bits uint32
			off := (r*cols + c) * es
			switch t.Dtype {
			case safetensors.F32:
				bits = binary.LittleEndian.Uint32(t.Data[off:])
			case safetensors.BF16:
				bits = uint32(binary.LittleEndian.Uint16(t.Data[off:])) << 16
			case safetensors.F16:
				bits = math.Float32bits(halfToFloat(binary.LittleEndian.Uint16(t.Data[off:])))
			}
			binary.LittleEndian.PutUint32(out[4*(c*rows+r):], bits)
		}
	}
	return out
}

func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0:
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
