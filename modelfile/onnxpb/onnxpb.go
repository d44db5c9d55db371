// Package onnxpb builds ONNX models (ModelProto and the messages under it)
// and serialises them with protowire, without generated protobuf code. It
// also reads the initializers back from a serialised model, and walks any
// serialised message field by field (Walk) for code that copies or patches
// a model without decoding it.
//
// Field numbers follow onnx/onnx.proto (IR version 8).
package onnxpb

import "google.golang.org/protobuf/encoding/protowire"

// Element types of TensorProto.DataType.
const (
	TypeFloat   int32 = 1
	TypeUint8   int32 = 2
	TypeInt8    int32 = 3
	TypeInt32   int32 = 6
	TypeInt64   int32 = 7
	TypeBool    int32 = 9
	TypeFloat16 int32 = 10
	TypeDouble  int32 = 11
)

// IRVersion is the ONNX IR version written into models (ONNX 1.10+, opset 15-17).
const IRVersion = 8

// Field numbers of the ONNX messages (onnx/onnx.proto), for Walk's users
// and this package's encoder and decoder.
const (
	FieldModelIRVersion       protowire.Number = 1
	FieldModelProducerName    protowire.Number = 2
	FieldModelProducerVersion protowire.Number = 3
	FieldModelDocString       protowire.Number = 6
	FieldModelGraph           protowire.Number = 7
	FieldModelOpsetImport     protowire.Number = 8

	FieldOpsetDomain  protowire.Number = 1
	FieldOpsetVersion protowire.Number = 2

	FieldGraphNode        protowire.Number = 1
	FieldGraphName        protowire.Number = 2
	FieldGraphInitializer protowire.Number = 5
	FieldGraphInput       protowire.Number = 11
	FieldGraphOutput      protowire.Number = 12

	FieldNodeInput     protowire.Number = 1
	FieldNodeOutput    protowire.Number = 2
	FieldNodeName      protowire.Number = 3
	FieldNodeOpType    protowire.Number = 4
	FieldNodeAttribute protowire.Number = 5
	FieldNodeDomain    protowire.Number = 7

	FieldAttrName   protowire.Number = 1
	FieldAttrF      protowire.Number = 2
	FieldAttrI      protowire.Number = 3
	FieldAttrS      protowire.Number = 4
	FieldAttrT      protowire.Number = 5
	FieldAttrFloats protowire.Number = 7
	FieldAttrInts   protowire.Number = 8
	FieldAttrType   protowire.Number = 20

	FieldTensorDims         protowire.Number = 1
	FieldTensorDataType     protowire.Number = 2
	FieldTensorFloatData    protowire.Number = 4
	FieldTensorInt32Data    protowire.Number = 5
	FieldTensorStringData   protowire.Number = 6
	FieldTensorInt64Data    protowire.Number = 7
	FieldTensorName         protowire.Number = 8
	FieldTensorRawData      protowire.Number = 9
	FieldTensorDoubleData   protowire.Number = 10
	FieldTensorUint64Data   protowire.Number = 11
	FieldTensorExternalData protowire.Number = 13
	FieldTensorDataLocation protowire.Number = 14

	FieldValueInfoName protowire.Number = 1
	FieldValueInfoType protowire.Number = 2

	FieldTypeTensorType     protowire.Number = 1
	FieldTensorTypeElemType protowire.Number = 1
	FieldTensorTypeShape    protowire.Number = 2
	FieldShapeDim           protowire.Number = 1
	FieldDimValue           protowire.Number = 1
	FieldDimParam           protowire.Number = 2
)

// AttributeProto.AttributeType values.
const (
	attrTypeFloat  = 1
	attrTypeInt    = 2
	attrTypeString = 3
	attrTypeTensor = 4
	attrTypeFloats = 6
	attrTypeInts   = 7
)
