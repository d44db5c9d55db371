// Package vision is the vision tower: CLIP ViT-B/32's vision model and
// projection (Xenova/clip-vit-base-patch32's vision_model.onnx) fed with
// pixels decoded as Pillow decodes them (package imagedecode) and
// preprocessed as CLIPImageProcessor does (package clipprep), so that its
// vectors are sentence-transformers' clip-ViT-B-32 image vectors.
package vision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/clipprep"
	"github.com/mclip-go/mclip/vectorizer/imagedecode"
	"github.com/mclip-go/mclip/vectorizer/onnxsession"
)

// Options configure the image encoder.
type Options struct {
	// Variant is the graph to load (fp32 or int8).
	Variant modelstore.Variant
	Session onnxsession.Options
	// BatchSize is the most images sent to the model in one call (default
	// config.DefaultBatchSize).
	BatchSize int
	// Workers bounds the images decoded and preprocessed at once, across
	// all concurrent Encode calls (default GOMAXPROCS).
	Workers int
	// Decode limits and adjusts image decoding.
	Decode imagedecode.Options
	// Preprocessing is how the model's Python image prepares images
	// (the catalog's kind; empty means clip-pillow).
	Preprocessing clipprep.Kind
	// InputSize is the vision tower's input side (224, 384); when set, a
	// preprocessor_config.json cropping to another size is refused.
	InputSize int
}

// Inputs and outputs of the vision graph.
var (
	graphInputs = []onnxsession.Want{
		{Names: []string{"pixel_values"}, Type: ort.TensorElementDataTypeFloat, Rank: 4},
	}
	graphOutputs = []onnxsession.Want{
		{Names: []string{"image_embeds"}, Type: ort.TensorElementDataTypeFloat, Rank: 2},
	}
)

// Encoder turns images into vectors. It is safe for concurrent use.
type Encoder struct {
	opts Options
	prep clipprep.Config
	sess *onnxsession.Session
	dim  int
	sem  chan struct{} // Workers slots for decoding and preprocessing
}

// Load opens the vision tower of a model directory: its
// preprocessor_config.json run as opts.Preprocessing (open_clip's settings
// for KindOpenCLIP, which has none), config.json (projection_dim) and the
// graph of opts.Variant.
func Load(dir modelstore.Dir, opts Options) (*Encoder, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = config.DefaultBatchSize
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	prep, err := clipprep.Load(opts.Preprocessing, opts.InputSize, dir.Vision(modelstore.PreprocessorConfig))
	if err != nil {
		return nil, fmt.Errorf("vision model: %w", err)
	}
	dim, err := projectionDim(dir.Vision(modelstore.VisionConfigJSON))
	if err != nil {
		return nil, fmt.Errorf("vision model: %w", err)
	}
	graph, err := dir.VisionGraph(opts.Variant)
	if err != nil {
		return nil, fmt.Errorf("vision model: %w", err)
	}
	sess, err := onnxsession.Open(graph, opts.Session, graphInputs, graphOutputs)
	if err != nil {
		return nil, fmt.Errorf("vision model: %w", err)
	}
	return &Encoder{opts: opts, prep: prep, sess: sess, dim: dim, sem: make(chan struct{}, opts.Workers)}, nil
}

// projectionDim reads CLIPConfig's projection_dim (512 when absent, as
// transformers defaults it).
func projectionDim(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("config: %w", err)
	}
	var c struct {
		ProjectionDim *int `json:"projection_dim"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return 0, fmt.Errorf("config %s: %w", path, err)
	}
	if c.ProjectionDim == nil {
		return 512, nil
	}
	if *c.ProjectionDim <= 0 || *c.ProjectionDim > 1<<16 {
		return 0, fmt.Errorf("config %s: projection_dim %d out of range", path, *c.ProjectionDim)
	}
	return *c.ProjectionDim, nil
}

// Close releases the ONNX session.
func (e *Encoder) Close() error { return e.sess.Close() }

// Dimensions is the length of the vectors.
func (e *Encoder) Dimensions() int { return e.dim }

// Session returns the ONNX session (for what it loaded and fused).
func (e *Encoder) Session() *onnxsession.Session { return e.sess }

// Preprocessor returns the preprocessing settings in use.
func (e *Encoder) Preprocessor() clipprep.Config { return e.prep }

// Preprocess decodes one encoded image and writes its model input (CHW
// float32, Preprocessor().TensorLen() long) into dst.
func (e *Encoder) Preprocess(image []byte, dst []float32) error {
	size, crop, err := DecodeCrop(image, e.prep, e.opts.Decode)
	if err == nil {
		err = e.prep.Normalize(crop, dst)
	}
	if err != nil && size != nil {
		return fmt.Errorf("preprocess %dx%d image: %w", size.Width, size.Height, err)
	}
	return err
}

// ImageSize is the width and height of a decoded image.
type ImageSize struct{ Width, Height int }

// DecodeCrop is the first two steps of Preprocess: it decodes an encoded
// image (size, nil when decoding failed) and resizes and crops it to what
// the model sees (crop), for tools that show those pixels (`mclip
// preprocess`). A still lossy WebP is not converted to RGB as a whole:
// its rows are converted while they are resized (imagedecode.YUV420,
// clipprep.Config.CropRows; the same pixels).
func DecodeCrop(image []byte, prep clipprep.Config, opts imagedecode.Options) (size *ImageSize, crop *imagedecode.RGB, err error) {
	if yuv, ok := imagedecode.DecodeYUV420(image, opts); ok {
		defer yuv.Release() // the crop is a copy
		crop, err = prep.CropRows(yuv)
		return &ImageSize{yuv.Width, yuv.Height}, crop, err
	}
	img, err := imagedecode.Decode(image, opts)
	if err != nil {
		return nil, nil, err
	}
	crop, err = prep.Crop(img)
	return &ImageSize{img.Width, img.Height}, crop, err
}

// DecodeOptions are the image decoding limits and adjustments of the
// settings.
func DecodeOptions(cfg config.Config) imagedecode.Options {
	return imagedecode.Options{MaxPixels: cfg.MaxPixels, MaxBytes: cfg.MaxImageBytes, ApplyEXIF: cfg.ApplyEXIF}
}

// Encode returns one un-normalized vector per image, in input order. Images
// are decoded and preprocessed in parallel (Options.Workers at once) and
// sent to the model BatchSize at a time; an image that fails gets a nil
// vector and its error, the others are unaffected. The next batch is
// decoded while the model runs on the current one (two batch buffers at
// most), so the cores a large file's decoding leaves idle are not wasted.
func (e *Encoder) Encode(ctx context.Context, images [][]byte) ([][]float32, []error) {
	vecs := make([][]float32, len(images))
	errs := make([]error, len(images))
	per := e.prep.TensorLen()
	bs := e.opts.BatchSize
	type batch struct {
		idx  []int
		buf  []float32
		done chan struct{}
	}
	var bufs [2][]float32
	start := func(n, first int) *batch {
		b := &batch{buf: bufs[n%2], done: make(chan struct{})}
		if b.buf == nil {
			b.buf = make([]float32, min(bs, len(images))*per)
			bufs[n%2] = b.buf
		}
		for i := first; i < min(first+bs, len(images)); i++ {
			b.idx = append(b.idx, i)
		}
		go func() {
			defer close(b.done)
			if err := ctx.Err(); err != nil {
				for _, i := range b.idx {
					errs[i] = err
				}
				return
			}
			e.preprocessAll(ctx, images, b.idx, b.buf, errs)
		}()
		return b
	}
	if len(images) == 0 {
		return vecs, errs
	}
	next := start(0, 0)
	for n := 0; next != nil; n++ {
		cur := next
		<-cur.done
		next = nil
		if first := (n + 1) * bs; first < len(images) {
			next = start(n+1, first)
		}
		// Pack the images that made it to the front of the buffer.
		buf := cur.buf
		ok := cur.idx[:0:0]
		for j, i := range cur.idx {
			if errs[i] != nil {
				continue
			}
			if k := len(ok); k != j {
				copy(buf[k*per:(k+1)*per], buf[j*per:(j+1)*per])
			}
			ok = append(ok, i)
		}
		if len(ok) == 0 {
			continue
		}
		out, err := e.EncodePixels(buf[:len(ok)*per], len(ok))
		for j, i := range ok {
			if err != nil {
				errs[i] = err
				continue
			}
			vecs[i] = out[j]
		}
	}
	return vecs, errs
}

// preprocessAll fills buf slot j with image idx[j], at most Workers at a
// time over the whole encoder, recording failures in errs.
func (e *Encoder) preprocessAll(ctx context.Context, images [][]byte, idx []int, buf []float32, errs []error) {
	per := e.prep.TensorLen()
	var wg sync.WaitGroup
	for j, i := range idx {
		wg.Add(1)
		e.sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-e.sem }()
			if err := ctx.Err(); err != nil {
				errs[i] = err
				return
			}
			errs[i] = e.Preprocess(images[i], buf[j*per:(j+1)*per])
		}()
	}
	wg.Wait()
}

// EncodePixels runs one model call on batch preprocessed images (NCHW
// float32, batch*Preprocessor().TensorLen() values) and returns their
// un-normalized vectors.
func (e *Encoder) EncodePixels(pixels []float32, batch int) (vecs [][]float32, err error) {
	per := e.prep.TensorLen()
	if batch <= 0 || len(pixels) != batch*per {
		return nil, fmt.Errorf("vision model: %d pixel values for a batch of %d, want %d", len(pixels), batch, batch*per)
	}
	in, err := ort.NewTensor(ort.NewShape(int64(batch), 3, int64(e.prep.CropHeight), int64(e.prep.CropWidth)), pixels)
	if err != nil {
		return nil, fmt.Errorf("vision model: input tensor: %w", err)
	}
	defer in.Destroy()
	outs := []ort.Value{nil}
	if err := e.sess.Run([]ort.Value{in}, outs); err != nil {
		return nil, fmt.Errorf("vision model: %w", err)
	}
	defer outs[0].Destroy()
	t, ok := outs[0].(*ort.Tensor[float32])
	if !ok {
		return nil, errors.New("vision model: image_embeds is not a float32 tensor")
	}
	shape := t.GetShape()
	if len(shape) != 2 || shape[0] != int64(batch) || shape[1] != int64(e.dim) {
		return nil, fmt.Errorf("vision model: image_embeds has shape %v, want [%d %d]", shape, batch, e.dim)
	}
	data := t.GetData()
	vecs = make([][]float32, batch)
	for b := range vecs {
		vecs[b] = append([]float32(nil), data[b*e.dim:(b+1)*e.dim]...)
	}
	return vecs, nil
}
