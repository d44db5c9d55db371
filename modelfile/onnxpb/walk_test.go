package onnxpb

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
)

// message returns one field of each wire type: a varint, a fixed32, a
// fixed64, a bytes field and a group holding a varint.
func message() []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, 300)
	b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
	b = protowire.AppendFixed32(b, math.Float32bits(1.5))
	b = protowire.AppendTag(b, 3, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, 1<<40)
	b = protowire.AppendTag(b, 20, protowire.BytesType)
	b = protowire.AppendString(b, "payload")
	b = protowire.AppendTag(b, 4, protowire.StartGroupType)
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, 7)
	b = protowire.AppendTag(b, 4, protowire.EndGroupType)
	return b
}

func TestWalkViews(t *testing.T) {
	b := message()
	var got []Field
	require.NoError(t, Walk(b, func(f Field) error {
		got = append(got, f)
		return nil
	}))
	tests := []struct {
		num    protowire.Number
		typ    protowire.Type
		value  uint64
		bytes  string
		raw    []byte
		offset int
	}{
		{1, protowire.VarintType, 300, "", []byte{0x08, 0xac, 0x02}, 1},
		{2, protowire.Fixed32Type, uint64(math.Float32bits(1.5)), "", append([]byte{0x15}, b[4:8]...), 4},
		{3, protowire.Fixed64Type, 1 << 40, "", append([]byte{0x19}, b[9:17]...), 9},
		{20, protowire.BytesType, 0, "payload", append([]byte{0xa2, 0x01, 7}, "payload"...), 20},
		{4, protowire.StartGroupType, 0, "", []byte{0x23, 0x08, 0x07, 0x24}, 28},
	}
	require.Len(t, got, len(tests))
	var joined []byte
	for i, tt := range tests {
		f := got[i]
		assert.Equal(t, tt.num, f.Num, "field %d", i)
		assert.Equal(t, tt.typ, f.Type, "field %d", i)
		assert.Equal(t, tt.value, f.Value, "field %d", i)
		assert.Equal(t, tt.bytes, string(f.Bytes), "field %d", i)
		assert.Equal(t, tt.raw, f.Raw, "field %d", i)
		assert.Equal(t, tt.offset, f.Offset, "field %d", i)
		joined = append(joined, f.Raw...)
	}
	assert.Equal(t, b, joined, "the raw fields make up the message")
	// Offset points at the value itself: a bytes payload, or the encoding
	// of a varint, which can be patched in place.
	assert.Equal(t, "payload", string(b[got[3].Offset:got[3].Offset+len("payload")]))
	v, n := protowire.ConsumeVarint(b[got[0].Offset:])
	assert.Equal(t, uint64(300), v)
	assert.Equal(t, 2, n)
}

func TestWalkMalformed(t *testing.T) {
	tag := func(num protowire.Number, typ protowire.Type, rest ...byte) []byte {
		return append(protowire.AppendTag(nil, num, typ), rest...)
	}
	good := func(rest ...byte) []byte { return append(tag(1, protowire.VarintType, 5), rest...) }
	tests := []struct {
		name   string
		data   []byte
		fields int // walked before the error
		want   string
	}{
		{"truncated tag", []byte{0x80}, 0, "field tag: unexpected EOF"},
		{"field number 0", []byte{0x00}, 0, "field tag: invalid field number"},
		{"truncated varint", good(tag(2, protowire.VarintType, 0x80, 0x80)...), 1, "field 2: unexpected EOF"},
		{"varint over 10 bytes", tag(2, protowire.VarintType, bytes.Repeat([]byte{0xff}, 11)...), 0, "field 2: variable length integer overflow"},
		{"truncated fixed32", tag(3, protowire.Fixed32Type, 1, 2), 0, "field 3: unexpected EOF"},
		{"truncated fixed64", tag(3, protowire.Fixed64Type, 1, 2, 3, 4), 0, "field 3: unexpected EOF"},
		{"length past the end", good(tag(7, protowire.BytesType, 5, 'a', 'b')...), 1, "field 7: unexpected EOF"},
		{"truncated length", tag(7, protowire.BytesType, 0x80), 0, "field 7: unexpected EOF"},
		{"reserved wire type 6", good(0x0e, 0x00), 1, "field 1: cannot parse reserved wire type"},
		{"reserved wire type 7", []byte{0x0f}, 0, "field 1: cannot parse reserved wire type"},
		{"unterminated group", tag(4, protowire.StartGroupType, 0x08, 0x01), 0, "field 4: unexpected EOF"},
		{"group ended by another number", append(tag(4, protowire.StartGroupType), tag(5, protowire.EndGroupType)...), 0, "field 4: mismatching end group marker"},
		{"end group alone", tag(4, protowire.EndGroupType), 0, "field 4: mismatching end group marker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			err := Walk(tt.data, func(Field) error { n++; return nil })
			require.Error(t, err)
			// protowire's messages start "proto:" and a space or, at
			// random, a no-break space.
			assert.Equal(t, tt.want, strings.NewReplacer("proto: ", "", "proto:\u00a0", "").Replace(err.Error()))
			assert.Equal(t, tt.fields, n)
		})
	}
}

func TestWalkStopsAtCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := Walk(message(), func(f Field) error {
		n++
		if f.Num == 3 {
			return stop
		}
		return nil
	})
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 3, n)
}

// FuzzWalk: whatever the input, Walk returns instead of panicking, and the
// fields it hands out lie inside the input and make it up.
func FuzzWalk(f *testing.F) {
	f.Add(message())
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x05, 'a'})
	f.Add([]byte{0x23, 0x08})
	if m, err := affineModel([]float32{1, 2, 3, 4, 5, 6}, []float32{1, 2, 3}).Marshal(); err == nil {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var joined []byte
		err := Walk(b, func(fd Field) error {
			start := len(joined)
			joined = append(joined, fd.Raw...)
			if !bytes.Equal(joined, b[:len(joined)]) {
				t.Fatalf("field %d: raw bytes are not the input's", fd.Num)
			}
			if fd.Offset < start || fd.Offset > len(joined) {
				t.Fatalf("field %d: offset %d outside its raw bytes [%d, %d]", fd.Num, fd.Offset, start, len(joined))
			}
			if fd.Type == protowire.BytesType && !bytes.Equal(fd.Bytes, b[fd.Offset:fd.Offset+len(fd.Bytes)]) {
				t.Fatalf("field %d: payload is not at its offset", fd.Num)
			}
			return nil
		})
		if err == nil && len(joined) != len(b) {
			t.Fatalf("walked %d of %d bytes without an error", len(joined), len(b))
		}
		_, _ = Parse(b) // the decoder on top must not panic either
	})
}
