package modelstore

import (
	"runtime"

	"golang.org/x/sys/cpu"
)

// CPU is the part of the processor's instruction set that picks the int8
// text graph.
type CPU struct {
	Arch       string // runtime.GOARCH
	AVX2       bool
	AVX512     bool // AVX-512 F, BW, VL and DQ, which the avx512 export targets
	AVX512VNNI bool
}

// DetectCPU reads the running processor's features.
func DetectCPU() CPU {
	return CPU{
		Arch:       runtime.GOARCH,
		AVX2:       cpu.X86.HasAVX2,
		AVX512:     cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512DQ,
		AVX512VNNI: cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI,
	}
}

// Int8Name names the instruction set the int8 graphs are picked for, or ""
// when the CPU has none of them.
func (c CPU) Int8Name() string {
	switch {
	case c.Arch == "arm64":
		return "arm64"
	case c.AVX512VNNI:
		return "avx512_vnni"
	case c.AVX512:
		return "avx512"
	case c.AVX2:
		return "avx2"
	}
	return ""
}

// Int8TextGraph is the int8 text graph exported for the CPU; a CPU with none
// of the instruction sets gets the AVX2 one (int8 asked for explicitly: ONNX
// Runtime runs it, slowly).
func (c CPU) Int8TextGraph() string {
	switch c.Int8Name() {
	case "arm64":
		return TextONNXInt8ARM64
	case "avx512_vnni":
		return TextONNXInt8VNNI
	case "avx512":
		return TextONNXInt8AVX512
	}
	return TextONNXInt8AVX2
}

// ResolveVariant turns VariantAuto into int8 on a CPU with AVX2, AVX-512,
// AVX-512 VNNI or arm64 and into fp32 otherwise; other variants are
// returned as they are. The reason says why, for logs.
func ResolveVariant(v Variant, c CPU) (Variant, string) {
	if v != VariantAuto {
		return v, "asked for"
	}
	if n := c.Int8Name(); n != "" {
		return VariantInt8, "auto: the CPU has " + n
	}
	return VariantFP32, "auto: the CPU has no AVX2, AVX-512 or arm64 int8 support"
}
