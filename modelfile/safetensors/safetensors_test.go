package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// build assembles a file from a header string and data bytes.
func build(header string, data []byte) []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func TestWriteReadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.safetensors")
	w := []float32{1, -2, 3.5, 0, 1e-8, -7}
	bias := []float32{0.25}
	require.NoError(t, WriteFile(path, []Tensor{
		{Name: "linear.weight", Shape: []int64{2, 3}, Data: w},
		{Name: "linear.bias", Shape: []int64{1}, Data: bias},
	}, map[string]string{"format": "pt"}))

	f, err := Open(path)
	require.NoError(t, err)
	assert.Equal(t, []string{"linear.bias", "linear.weight"}, f.Names())
	assert.Equal(t, map[string]string{"format": "pt"}, f.Metadata)
	got, shape, err := f.Float32("linear.weight")
	require.NoError(t, err)
	assert.Equal(t, w, got)
	assert.Equal(t, []int64{2, 3}, shape)
	m, err := f.Matrix("linear.weight", 2, 3)
	require.NoError(t, err)
	assert.Equal(t, w, m)
	_, err = f.Matrix("linear.weight", 3, 2)
	assert.ErrorContains(t, err, "want [3 2]")
	_, _, err = f.Float32("nope")
	assert.ErrorContains(t, err, `no tensor "nope"`)
	info, ok := f.Info("linear.bias")
	require.True(t, ok)
	assert.Equal(t, Info{Dtype: F32, Shape: []int64{1}, DataOffsets: [2]int64{24, 28}}, info)
}

func TestHeaderPadding(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, []Tensor{{Name: "x", Shape: []int64{1}, Data: []float32{1}}}, nil))
	n := binary.LittleEndian.Uint64(buf.Bytes())
	assert.Zero(t, n%8)
	assert.Equal(t, int(8+n+4), buf.Len())
}

func TestDtypeConversion(t *testing.T) {
	tests := []struct {
		dtype Dtype
		data  []byte
		want  []float32
	}{
		{F16, []byte{0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x7c}, []float32{1, -2, 5.9604645e-08, float32(math.Inf(1))}},
		{BF16, []byte{0x80, 0x3f, 0x40, 0xc0}, []float32{1, -3}},
		{F64, []byte{0, 0, 0, 0, 0, 0, 0xf8, 0x3f}, []float32{1.5}},
	}
	for _, tc := range tests {
		t.Run(string(tc.dtype), func(t *testing.T) {
			n := len(tc.data) / tc.dtype.Size()
			header := `{"w":{"dtype":"` + string(tc.dtype) + `","shape":[` + strconv.Itoa(n) + `],"data_offsets":[0,` + strconv.Itoa(len(tc.data)) + `]}}`
			f, err := Parse(build(header, tc.data))
			require.NoError(t, err)
			got, _, err := f.Float32("w")
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	f, err := Parse(build(`{"w":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)))
	require.NoError(t, err)
	_, _, err = f.Float32("w")
	assert.ErrorContains(t, err, "not a floating-point type")
}

func TestParseErrors(t *testing.T) {
	four := make([]byte, 4)
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "too short"},
		{"header too big", binary.LittleEndian.AppendUint64(nil, MaxHeaderSize+1), "exceeds"},
		{"header past end", binary.LittleEndian.AppendUint64(nil, 40), "runs past the end"},
		{"not an object", build(`[1]     `, nil), "does not start"},
		{"bad json", build(`{"w":`, nil), "header json"},
		{"unknown dtype", build(`{"w":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}`, []byte{0}), `unknown dtype "F8"`},
		{"missing shape", build(`{"w":{"dtype":"F32","data_offsets":[0,4]}}`, four), "missing shape"},
		{"unknown field", build(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, four), "unknown field"},
		{"negative dim", build(`{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, four), "negative dimension"},
		{"size mismatch", build(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, four), "needs 8"},
		{"reversed offsets", build(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, four), "bad data offsets"},
		{"gap", build(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), "gap"},
		{"overlap", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), "overlaps"},
		{"past end", build(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, four), "cover 8 bytes"},
		{"trailing data", build(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 6)), "file holds 6"},
		{"bad metadata", build(`{"__metadata__":{"a":1}}`, nil), "__metadata__"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.file)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name    string
		tensors []Tensor
		want    string
	}{
		{"size mismatch", []Tensor{{Name: "w", Shape: []int64{2, 2}, Data: []float32{1}}}, "holds 4 values, got 1"},
		{"duplicate", []Tensor{{Name: "w", Shape: []int64{1}, Data: []float32{1}}, {Name: "w", Shape: []int64{1}, Data: []float32{1}}}, "twice"},
		{"reserved name", []Tensor{{Name: "__metadata__", Shape: []int64{1}, Data: []float32{1}}}, "invalid tensor name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.ErrorContains(t, Write(&bytes.Buffer{}, tc.tensors, nil), tc.want)
		})
	}
}

func TestOpenMissing(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "absent.safetensors"))
	assert.ErrorContains(t, err, "no such file")
}

// OpenMapped reads what Open reads, including tensors larger than Write's
// encoding chunk, and refuses what Parse refuses.
func TestOpenMapped(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.safetensors")
	big := make([]float32, 300_000)
	for i := range big {
		big[i] = float32(i) * 0.5
	}
	require.NoError(t, WriteFile(path, []Tensor{{Name: "table", Shape: []int64{1000, 300}, Data: big}, {Name: "b", Shape: []int64{2}, Data: []float32{1, 2}}}, nil))
	f, err := OpenMapped(path)
	require.NoError(t, err)
	got, shape, err := f.Float32("table")
	require.NoError(t, err)
	assert.Equal(t, []int64{1000, 300}, shape)
	assert.Equal(t, big, got)
	require.NoError(t, f.Close())
	require.NoError(t, f.Close(), "a second Close does nothing")

	bad := filepath.Join(dir, "bad.safetensors")
	require.NoError(t, os.WriteFile(bad, build(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)), 0o644))
	_, err = OpenMapped(bad)
	assert.ErrorContains(t, err, "shape [2] of F32 needs 8")
	short := filepath.Join(dir, "short.safetensors")
	require.NoError(t, os.WriteFile(short, []byte{1, 2}, 0o644))
	_, err = OpenMapped(short)
	assert.ErrorContains(t, err, "too short")
	_, err = OpenMapped(filepath.Join(dir, "missing.safetensors"))
	assert.ErrorContains(t, err, "no such file")
}
