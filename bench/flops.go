package bench

import "github.com/mclip-go/mclip/modelgen"

// FLOPs count a multiply-add as two operations, as the ceiling's GFLOPS
// do. (The 4.4 "GFLOPs" often quoted for ViT-B/32 are multiply-adds: 8.8
// GFLOP by this count.)

// textFLOPs is the work of one sentence of tokens tokens in the text
// tower: the linear layers of every layer plus the attention scores and
// context, and the Dense projection.
func textFLOPs(p modelgen.TextParams, tokens float64) float64 {
	d, h := float64(p.Dim), float64(p.Hidden)
	perLayer := tokens*(4*d*d+2*d*h) + 2*tokens*tokens*d
	return 2 * (float64(p.Layers)*perLayer + d*float64(p.DenseOut))
}

// visionFLOPs is the work of one image in the vision tower: the patch
// convolution, the layers, and the projection.
func visionFLOPs(p modelgen.VisionParams) float64 {
	d, in := float64(p.Hidden), float64(p.Intermediate)
	t := float64(p.Positions())
	patches := t - 1
	conv := patches * float64(p.Channels*p.PatchSize*p.PatchSize) * d
	perLayer := t*(4*d*d+2*d*in) + 2*t*t*d
	return 2 * (conv + float64(p.Layers)*perLayer + d*float64(p.ProjectionDim))
}
