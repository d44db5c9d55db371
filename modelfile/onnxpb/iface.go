package onnxpb

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"google.golang.org/protobuf/encoding/protowire"
)

// ReadInterface reads the inputs and outputs of the serialised ONNX model
// at path without reading its weights: the file is mapped, and only the
// field headers of the model and its graph, the value infos and the
// initializers' names are touched, so that a 500 MB graph costs a few
// pages instead of a copy of itself. Inputs that name an initializer are
// left out, as ONNX Runtime leaves them out of a session's inputs.
func ReadInterface(path string) (inputs, outputs []ValueInfo, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read onnx model: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("read onnx model: %w", err)
	}
	if st.Size() == 0 {
		return nil, nil, fmt.Errorf("read onnx model %s: empty file", path)
	}
	if int64(int(st.Size())) != st.Size() {
		return nil, nil, fmt.Errorf("read onnx model %s: too large to map", path)
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("map onnx model %s: %w", path, err)
	}
	defer syscall.Munmap(b)
	inputs, outputs, err = Interface(b)
	if err != nil {
		return nil, nil, fmt.Errorf("parse onnx model %s: %w", path, err)
	}
	return inputs, outputs, nil
}

// Interface is ReadInterface on a model's bytes. The returned value infos
// share no memory with b.
func Interface(b []byte) (inputs, outputs []ValueInfo, err error) {
	var graph []byte
	seen := false
	if err := Walk(b, func(f Field) error {
		if f.Num == FieldModelGraph && f.Type == protowire.BytesType {
			graph, seen = f.Bytes, true
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}
	if !seen {
		return nil, nil, errors.New("model has no graph")
	}
	initializers := map[string]bool{}
	var all []ValueInfo
	err = Walk(graph, func(f Field) error {
		if f.Type != protowire.BytesType {
			return nil
		}
		switch f.Num {
		case FieldGraphInitializer:
			name, err := tensorName(f.Bytes)
			if err != nil {
				return fmt.Errorf("initializer: %w", err)
			}
			initializers[name] = true
		case FieldGraphInput, FieldGraphOutput:
			vi, err := parseValueInfo(f.Bytes)
			if err != nil {
				return fmt.Errorf("value info: %w", err)
			}
			if f.Num == FieldGraphOutput {
				outputs = append(outputs, vi)
			} else {
				all = append(all, vi)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("graph: %w", err)
	}
	for _, vi := range all {
		if !initializers[vi.Name] {
			inputs = append(inputs, vi)
		}
	}
	return inputs, outputs, nil
}

// tensorName reads a TensorProto's name, skipping over its data.
func tensorName(b []byte) (string, error) {
	var name string
	err := Walk(b, func(f Field) error {
		if f.Num == FieldTensorName && f.Type == protowire.BytesType {
			name = string(f.Bytes)
		}
		return nil
	})
	return name, err
}
