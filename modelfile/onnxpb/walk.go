package onnxpb

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field is one field of a serialised protobuf message, as Walk finds it.
// It offers the three views the users of this package need: the decoded
// value (Value, Bytes), the field's own bytes to copy it untouched (Raw)
// and where its value lies, to patch it in place (Offset).
type Field struct {
	Num  protowire.Number
	Type protowire.Type
	// Value is the value of a varint, fixed32 or fixed64 field; 0 for the
	// others.
	Value uint64
	// Bytes is the payload of a length-delimited field (its length
	// prefix excluded); nil for the others.
	Bytes []byte
	// Raw is the whole field as written, tag included (for a group, up to
	// and including its end tag).
	Raw []byte
	// Offset is where the field's value starts in the walked message: the
	// payload of a length-delimited field, else the encoded value right
	// after the tag.
	Offset int
}

// Walk calls fn with each field of the serialised message b, in order,
// and stops at the first error fn returns. Malformed input (a truncated
// tag or value, a length past the end, a reserved wire type, an
// unterminated group) gives an error that names the field; Walk never
// reads outside b.
func Walk(b []byte, fn func(Field) error) error {
	for pos := 0; pos < len(b); {
		num, typ, n := protowire.ConsumeTag(b[pos:])
		if n < 0 {
			return fmt.Errorf("field tag: %w", protowire.ParseError(n))
		}
		f := Field{Num: num, Type: typ, Offset: pos + n}
		rest := b[f.Offset:]
		var m int
		switch typ {
		case protowire.VarintType:
			f.Value, m = protowire.ConsumeVarint(rest)
		case protowire.Fixed32Type:
			var v uint32
			v, m = protowire.ConsumeFixed32(rest)
			f.Value = uint64(v)
		case protowire.Fixed64Type:
			f.Value, m = protowire.ConsumeFixed64(rest)
		case protowire.BytesType:
			f.Bytes, m = protowire.ConsumeBytes(rest)
			if m >= 0 {
				f.Offset += m - len(f.Bytes)
			}
		default:
			m = protowire.ConsumeFieldValue(num, typ, rest)
		}
		if m < 0 {
			return fmt.Errorf("field %d: %w", num, protowire.ParseError(m))
		}
		f.Raw = b[pos : pos+n+m]
		pos += n + m
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}
