// Package onnxpb builds ONNX models (ModelProto and the messages under it)
// and serialises them with protowire, without generated protobuf code. It
// also reads the initializers back from a serialised model.
//
// Field numbers follow onnx/onnx.proto (IR version 8).
package onnxpb

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

// Field numbers of the ONNX messages.
const (
	modelIRVersion     = 1
	modelProducerName  = 2
	modelProducerVer   = 3
	modelDocString     = 6
	modelGraph         = 7
	modelOpsetImport   = 8
	opsetDomain        = 1
	opsetVersion       = 2
	graphNode          = 1
	graphName          = 2
	graphInitializer   = 5
	graphInput         = 11
	graphOutput        = 12
	nodeInput          = 1
	nodeOutput         = 2
	nodeName           = 3
	nodeOpType         = 4
	nodeAttribute      = 5
	nodeDomain         = 7
	attrName           = 1
	attrF              = 2
	attrI              = 3
	attrS              = 4
	attrT              = 5
	attrFloats         = 7
	attrInts           = 8
	attrType           = 20
	tensorDims         = 1
	tensorDataType     = 2
	tensorFloatData    = 4
	tensorInt32Data    = 5
	tensorInt64Data    = 7
	tensorName         = 8
	tensorRawData      = 9
	tensorDoubleData   = 10
	valueInfoName      = 1
	valueInfoType      = 2
	typeTensorType     = 1
	tensorTypeElemType = 1
	tensorTypeShape    = 2
	shapeDim           = 1
	dimValue           = 1
	dimParam           = 2
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
