package onnxpb

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of StringStringEntryProto (TensorProto.external_data) and
// TensorProto.DataLocation's EXTERNAL value.
const (
	FieldEntryKey   protowire.Number = 1
	FieldEntryValue protowire.Number = 2
	dataLocationExt                  = 1
)

// ExternalAlign is the alignment of each tensor in an external data file,
// so that ONNX Runtime can map the file and use the tensors in place.
const ExternalAlign = 4096

// WriteFileExternal writes the model to path and the data of every
// initializer of at least threshold bytes to dataName, a file beside path
// (ONNX's external data: the tensors name their location, offset and length
// in that file and ONNX Runtime reads or maps them from it). A model over
// protobuf's 2 GiB limit can only be written this way. Tensors are written
// at offsets aligned to ExternalAlign.
func (m *Model) WriteFileExternal(path, dataName string, threshold int) error {
	if dataName == "" || strings.ContainsAny(dataName, `/\`) || dataName == "." || dataName == ".." {
		return fmt.Errorf("write onnx model %s: external data file name %q must be a plain file name", path, dataName)
	}
	if m.Graph == nil {
		return fmt.Errorf("write onnx model %s: no graph", path)
	}
	dataPath := filepath.Join(filepath.Dir(path), dataName)
	df, err := os.Create(dataPath)
	if err != nil {
		return fmt.Errorf("create onnx external data: %w", err)
	}
	bw := bufio.NewWriterSize(df, 1<<20)
	g := *m.Graph
	g.Initializers = make([]*Tensor, len(m.Graph.Initializers))
	var ext []externalRef
	off := int64(0)
	for i, t := range m.Graph.Initializers {
		g.Initializers[i] = t
		if len(t.Raw) < threshold || len(t.Raw) == 0 {
			continue
		}
		if err := t.Validate(); err != nil {
			df.Close()
			return fmt.Errorf("write onnx model %s: initializer: %w", path, err)
		}
		if pad := (ExternalAlign - off%ExternalAlign) % ExternalAlign; pad > 0 {
			if _, err := bw.Write(make([]byte, pad)); err != nil {
				df.Close()
				return fmt.Errorf("write onnx external data %s: %w", dataPath, err)
			}
			off += pad
		}
		if _, err := bw.Write(t.Raw); err != nil {
			df.Close()
			return fmt.Errorf("write onnx external data %s: %w", dataPath, err)
		}
		ext = append(ext, externalRef{index: i, offset: off, length: int64(len(t.Raw))})
		off += int64(len(t.Raw))
	}
	if err := bw.Flush(); err != nil {
		df.Close()
		return fmt.Errorf("write onnx external data %s: %w", dataPath, err)
	}
	if err := df.Close(); err != nil {
		return fmt.Errorf("close onnx external data %s: %w", dataPath, err)
	}
	for _, r := range ext {
		t := g.Initializers[r.index]
		g.Initializers[r.index] = &Tensor{Name: t.Name, DataType: t.DataType, Dims: t.Dims, external: &external{
			location: dataName, offset: r.offset, length: r.length,
		}}
	}
	c := *m
	c.Graph = &g
	return c.WriteFile(path)
}

type externalRef struct {
	index          int
	offset, length int64
}

// external locates a tensor's data in an external data file.
type external struct {
	location       string
	offset, length int64
}

// appendExternal appends the external_data entries and data_location of a
// tensor whose data lives in an external file.
func appendExternal(b []byte, e *external) []byte {
	entry := func(b []byte, k, v string) []byte {
		var eb []byte
		eb = appendStringField(eb, FieldEntryKey, k)
		eb = appendStringField(eb, FieldEntryValue, v)
		return appendBytesField(b, FieldTensorExternalData, eb)
	}
	b = entry(b, "location", e.location)
	b = entry(b, "offset", strconv.FormatInt(e.offset, 10))
	b = entry(b, "length", strconv.FormatInt(e.length, 10))
	return appendVarintField(b, FieldTensorDataLocation, dataLocationExt)
}
