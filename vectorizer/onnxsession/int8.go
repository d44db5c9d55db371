package onnxsession

import (
	"fmt"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/cpu"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/mclip-go/mclip/modelfile/onnxpb"
)

// Dynamically quantized graphs (ONNX Runtime's quantize_dynamic with
// QUInt8 weights, as Hugging Face's model_quint8_avx2.onnx and Xenova's
// *_quantized.onnx are) multiply uint8 activations by uint8 weights. ONNX
// Runtime has no VNNI kernel for uint8 x uint8 and runs it at about fp32
// speed; uint8 x int8 runs on VNNI's vpdpbusd at about 3.5 times that (see
// bench/results). Weights q with zero point z stand for scale·(q − z), and
// so do q − 128 with z − 128: the same graph with int8 weights computes
// exactly the same numbers. On CPUs with VNNI (where uint8 x int8 cannot
// saturate as it can with AVX2's vpmaddubsw) Open therefore flips such
// weights to int8 in memory before handing the graph to ONNX Runtime.

// signedWeightsWanted reports whether this CPU runs uint8 x int8 products
// on VNNI.
func signedWeightsWanted() bool {
	return runtime.GOARCH == "amd64" && (cpu.X86.HasAVX512VNNI || cpu.X86.HasAVXVNNI)
}

// MatMulInteger's inputs.
const (
	matMulIntegerOp   = "MatMulInteger"
	matMulIntegerW    = 1 // input index of the weights
	matMulIntegerWZer = 3 // input index of the weights' zero point
)

// tensorLoc locates one initializer inside the serialised model.
type tensorLoc struct {
	dataType    int64
	typeOffset  int // offset of the data_type varint, -1 if absent
	raw         [2]int
	hasRaw      bool
	multiFields bool // data_type written more than once or typed data
}

type use struct {
	op    string
	index int
}

// signedWeights flips, in place, the uint8 weights and zero points of the
// serialised model's MatMulInteger nodes to int8, and returns how many
// tensors it flipped. Nodes whose weights or zero points are shared with
// anything else, are graph inputs, or are not stored as raw_data are left
// alone.
func signedWeights(model []byte) (int, error) {
	graph, gOff, err := findField(model, onnxpb.FieldModelGraph)
	if err != nil || graph == nil {
		return 0, err
	}
	inits := map[string]*tensorLoc{}
	uses := map[string][]use{}
	inputs := map[string]bool{}
	type mmi struct{ w, z string }
	var nodes []mmi
	err = onnxpb.Walk(graph, func(f onnxpb.Field) error {
		switch {
		case f.Num == onnxpb.FieldGraphNode && f.Type == protowire.BytesType:
			var op, domain string
			var ins []string
			if err := onnxpb.Walk(f.Bytes, func(f onnxpb.Field) error {
				if f.Type != protowire.BytesType {
					return nil
				}
				switch f.Num {
				case onnxpb.FieldNodeInput:
					ins = append(ins, string(f.Bytes))
				case onnxpb.FieldNodeOpType:
					op = string(f.Bytes)
				case onnxpb.FieldNodeDomain:
					domain = string(f.Bytes)
				}
				return nil
			}); err != nil {
				return err
			}
			if domain != "" && domain != "ai.onnx" {
				op = domain + "." + op
			}
			for i, in := range ins {
				uses[in] = append(uses[in], use{op, i})
			}
			if op == matMulIntegerOp && len(ins) > matMulIntegerWZer {
				nodes = append(nodes, mmi{w: ins[matMulIntegerW], z: ins[matMulIntegerWZer]})
			}
		case f.Num == onnxpb.FieldGraphInitializer && f.Type == protowire.BytesType:
			loc := &tensorLoc{typeOffset: -1}
			var name string
			base := gOff + f.Offset
			if err := onnxpb.Walk(f.Bytes, func(f onnxpb.Field) error {
				switch {
				case f.Num == onnxpb.FieldTensorDataType && f.Type == protowire.VarintType:
					if loc.typeOffset >= 0 {
						loc.multiFields = true
					}
					loc.dataType, loc.typeOffset = int64(f.Value), base+f.Offset
				case f.Num == onnxpb.FieldTensorName && f.Type == protowire.BytesType:
					name = string(f.Bytes)
				case f.Num == onnxpb.FieldTensorRawData && f.Type == protowire.BytesType:
					loc.raw, loc.hasRaw = [2]int{base + f.Offset, base + f.Offset + len(f.Bytes)}, true
				case typedOrExternalData[f.Num]:
					loc.multiFields = true
				}
				return nil
			}); err != nil {
				return err
			}
			inits[name] = loc
		case f.Num == onnxpb.FieldGraphInput && f.Type == protowire.BytesType:
			if n, _, err := findField(f.Bytes, onnxpb.FieldValueInfoName); err == nil && n != nil {
				inputs[string(n)] = true
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("onnx graph: %w", err)
	}
	flippable := func(name string, index int) bool {
		loc, ok := inits[name]
		if !ok || inputs[name] || !loc.hasRaw || loc.multiFields || loc.dataType != int64(onnxpb.TypeUint8) {
			return false
		}
		if model[loc.typeOffset] != byte(onnxpb.TypeUint8) { // a one-byte varint, patched in place
			return false
		}
		for _, u := range uses[name] {
			if u.op != matMulIntegerOp || u.index != index {
				return false
			}
		}
		return true
	}
	flip := map[string]bool{}
	for _, n := range nodes {
		if flippable(n.w, matMulIntegerW) && flippable(n.z, matMulIntegerWZer) {
			flip[n.w], flip[n.z] = true, true
		}
	}
	// A weight or zero point shared by several nodes is flipped only if
	// every node using it has both of its tensors flipped.
	for changed := true; changed; {
		changed = false
		for _, n := range nodes {
			if flip[n.w] != flip[n.z] {
				delete(flip, n.w)
				delete(flip, n.z)
				changed = true
			}
		}
	}
	for name := range flip {
		loc := inits[name]
		model[loc.typeOffset] = byte(onnxpb.TypeInt8)
		for i := loc.raw[0]; i < loc.raw[1]; i++ {
			model[i] ^= 0x80
		}
	}
	return len(flip), nil
}

// typedOrExternalData are the TensorProto fields that hold or locate data
// other than raw_data.
var typedOrExternalData = map[protowire.Number]bool{
	onnxpb.FieldTensorFloatData: true, onnxpb.FieldTensorInt32Data: true, onnxpb.FieldTensorStringData: true,
	onnxpb.FieldTensorInt64Data: true, onnxpb.FieldTensorDoubleData: true, onnxpb.FieldTensorUint64Data: true,
	onnxpb.FieldTensorExternalData: true, onnxpb.FieldTensorDataLocation: true,
}

// findField returns the payload of the last bytes field num of a message
// and its offset.
func findField(b []byte, num protowire.Number) ([]byte, int, error) {
	var out []byte
	at := 0
	err := onnxpb.Walk(b, func(f onnxpb.Field) error {
		if f.Num == num && f.Type == protowire.BytesType {
			out, at = f.Bytes, f.Offset
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("onnx graph: %w", err)
	}
	return out, at, nil
}

// readSignedWeights maps the graph file copy-on-write and flips its uint8
// MatMulInteger weights to int8 in that private mapping (see
// signedWeights), outside the Go heap. It returns the mapping and how many
// tensors it flipped; the caller unmaps it with release once ONNX Runtime
// has copied the graph. With nothing flipped it returns a nil mapping.
func readSignedWeights(path string) (data []byte, n int, release func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return nil, 0, nil, err
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("map %s: %w", path, err)
	}
	release = func() { _ = syscall.Munmap(m) }
	n, err = signedWeights(m)
	if err != nil || n == 0 {
		release()
		return nil, 0, nil, err
	}
	return m, n, release, nil
}
