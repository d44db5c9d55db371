package bench

import "github.com/mclip-go/mclip/modelgen"

func fullVision() modelgen.VisionParams { return modelgen.VisionParamsFor(modelgen.Full) }
func fullText() modelgen.TextParams     { return modelgen.TextParamsFor(modelgen.Full) }
