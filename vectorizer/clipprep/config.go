// Package clipprep turns a decoded RGB image into the vision tower's input
// (NCHW float32) exactly as the Python image that serves the model does.
// Three preprocessings (Kind) exist among the tags mclip serves; all resize
// with a bicubic filter (a = -0.5, Pillow's and torch's antialiased
// support), then center-crop, rescale and normalise:
//
//   - KindCLIPPillow: transformers' CLIPImageProcessor (4.x) as
//     sentence-transformers runs it: Pillow's bicubic resize of the
//     shortest side (a bit-exact port of libImaging/Resample.c's 8-bit path:
//     22-bit fixed-point coefficients, horizontal then vertical pass through
//     an 8-bit intermediate), center crop at (size-crop)//2, rescale in
//     float64 then float32, normalise in float32.
//   - KindCLIPFast: transformers' CLIPImageProcessorFast (use_fast=True),
//     the processor the image's transformers branch builds. It resizes the
//     uint8 tensor with torchvision's resize, which on the CPU hands uint8
//     bicubic straight to torch's antialiased uint8 kernel (torch 2.1 and
//     later; the AVX2 kernel and the generic one compute the same
//     integers): Pillow-SIMD's algorithm, with Pillow's windows and float64
//     weights, but the weights rounded to int16 with a precision chosen per
//     axis from the largest weight of the whole axis (the first p with
//     round(max*2^(p+1)) >= 2^15, at most 22: 14 bits for upscales, 16
//     for a 640x480 photo, 18 for a 12 MP one, where Pillow has 22), the
//     same horizontal then vertical passes through an 8-bit intermediate.
//     mclip computes the same coefficients and integer sums, so the path
//     is exact, not within a level (a torch built with fused multiply-adds
//     could round a float64 weight's last bit differently, which changes an
//     int16 weight only within about 1e-10 of a rounding boundary). It differs from Pillow's
//     resize by one level in a fraction of a percent of the samples. It is
//     not torch's float kernel (older torchvision, such as Debian 12's
//     0.14, or a GPU), which keeps the intermediate image in float: where a
//     bicubic overshoot is clamped (black and white edges) the two part by
//     up to 30 levels, on photos by one or two. Then torchvision's center crop (top = round((h-
//     crop)/2), Python's round half to even; padding puts (crop-h)//2
//     before) and the fused rescale and normalise of float32(v): (v -
//     mean*255) / (std*255), mean*255 and std*255 rounded to float32.
//   - KindOpenCLIP: open_clip's inference transform (Resize(size, BICUBIC)
//     on the PIL image, CenterCrop, RGB, ToTensor, Normalize): Pillow's
//     resize as in KindCLIPPillow, torchvision's center crop as in
//     KindCLIPFast, then float32(v)/255 and (x - mean)/std in float32.
//     open_clip resizes the file in its own mode before converting to RGB
//     (a palette image with nearest-neighbour, RGBA premultiplied); this
//     package resizes the decoded RGB image, the same pixels for RGB and
//     grayscale files.
//
// Where transformers misbehaves, mclip does what it means instead:
//   - images 1 or 3 pixels high (or wide) are taken as channels-first by
//     the slow processor's infer_channel_dimension_format; here height and
//     width are always the image's own;
//   - a long thin image (1x4000) is resized by transformers to 224x896000
//     before the crop throws almost all of it away; here only the rows and
//     columns that survive the crop are computed (each output pixel depends
//     only on its own coordinate and on per-axis constants, so the result is
//     identical).
package clipprep

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// BicubicResample is PIL.Image.BICUBIC, the only filter CLIP uses.
const BicubicResample = 3

// Kind names a preprocessing; the values are the catalog's names for them.
type Kind string

const (
	// KindCLIPPillow is transformers' CLIPImageProcessor on a Pillow image
	// (the zero Kind means it too).
	KindCLIPPillow Kind = "clip-pillow"
	// KindCLIPFast is transformers' CLIPImageProcessorFast (torchvision's
	// uint8 tensor resize).
	KindCLIPFast Kind = "clip-fast"
	// KindOpenCLIP is open_clip's image_transform for inference.
	KindOpenCLIP Kind = "open_clip"
)

// ParseKind checks a preprocessing name.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case KindCLIPPillow, KindCLIPFast, KindOpenCLIP:
		return k, nil
	case "":
		return KindCLIPPillow, nil
	}
	return "", fmt.Errorf("preprocessing %q: want %s, %s or %s", s, KindCLIPPillow, KindCLIPFast, KindOpenCLIP)
}

func (k Kind) String() string {
	if k == "" {
		return string(KindCLIPPillow)
	}
	return string(k)
}

// torchvision says whether the kind crops and pads as torchvision's
// center_crop does.
func (k Kind) torchvision() bool { return k == KindCLIPFast || k == KindOpenCLIP }

// Config holds the preprocessor_config.json settings mclip uses and the
// preprocessing they drive.
type Config struct {
	// Kind is the preprocessing; empty means KindCLIPPillow.
	Kind Kind
	// ShortestEdge, when positive, resizes so the shorter side has this
	// length (size {"shortest_edge": N} or a plain integer size).
	ShortestEdge int
	// ResizeHeight and ResizeWidth resize to a fixed size instead (size
	// {"height": H, "width": W}).
	ResizeHeight, ResizeWidth int
	// CropHeight and CropWidth are the center crop.
	CropHeight, CropWidth int
	DoResize              bool
	DoRescale             bool
	DoNormalize           bool
	RescaleFactor         float64
	Mean, Std             [3]float32
}

// Default is clip-vit-base-patch32's preprocessor.
func Default() Config {
	return Config{
		Kind:         KindCLIPPillow,
		ShortestEdge: 224, CropHeight: 224, CropWidth: 224,
		DoResize: true, DoRescale: true, DoNormalize: true,
		RescaleFactor: 1.0 / 255,
		Mean:          [3]float32{0.48145466, 0.4578275, 0.40821073},
		Std:           [3]float32{0.26862954, 0.26130258, 0.27577711},
	}
}

// OpenCLIP is open_clip's inference preprocessing for a model with a
// size x size input and open_clip's defaults (the OpenAI mean and std,
// bicubic, resize_mode "shortest"), which both open_clip tags use.
func OpenCLIP(size int) Config {
	c := Default()
	c.Kind = KindOpenCLIP
	c.ShortestEdge, c.CropHeight, c.CropWidth = size, size, size
	return c
}

// Load is the preprocessing of a model whose vision tower takes inputSize x
// inputSize images: open_clip's for KindOpenCLIP (path unused: open_clip
// keeps its settings in code), otherwise the preprocessor_config.json at
// path run as kind. A crop other than the input size is an error.
func Load(kind Kind, inputSize int, path string) (Config, error) {
	k, err := ParseKind(string(kind))
	if err != nil {
		return Config{}, err
	}
	if k == KindOpenCLIP {
		c := OpenCLIP(inputSize)
		return c, c.Validate()
	}
	c, err := LoadConfig(path)
	if err != nil {
		return Config{}, err
	}
	c.Kind = k
	if inputSize > 0 && (c.CropHeight != inputSize || c.CropWidth != inputSize) {
		return Config{}, fmt.Errorf("preprocessor config %s: crop_size %dx%d, but the vision tower takes %dx%d", path, c.CropWidth, c.CropHeight, inputSize, inputSize)
	}
	return c, nil
}

// LoadConfig reads a preprocessor_config.json.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("preprocessor config: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("preprocessor config %s: %w", path, err)
	}
	return c, nil
}

type rawConfig struct {
	Size          json.RawMessage `json:"size"`
	CropSize      json.RawMessage `json:"crop_size"`
	DoResize      *bool           `json:"do_resize"`
	DoCenterCrop  *bool           `json:"do_center_crop"`
	DoRescale     *bool           `json:"do_rescale"`
	DoNormalize   *bool           `json:"do_normalize"`
	RescaleFactor *float64        `json:"rescale_factor"`
	Resample      *int            `json:"resample"`
	Mean          []float64       `json:"image_mean"`
	Std           []float64       `json:"image_std"`
}

// sizeDict parses transformers' size forms: an integer, {"shortest_edge":
// n} or {"height": h, "width": w}.
func sizeDict(raw json.RawMessage) (n, h, w int, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, 0, 0, nil
	}
	if err := json.Unmarshal(raw, &n); err == nil {
		return n, 0, 0, nil
	}
	var d struct {
		ShortestEdge *int `json:"shortest_edge"`
		Height       *int `json:"height"`
		Width        *int `json:"width"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return 0, 0, 0, fmt.Errorf("want an integer or an object: %w", err)
	}
	switch {
	case d.ShortestEdge != nil:
		return *d.ShortestEdge, 0, 0, nil
	case d.Height != nil && d.Width != nil:
		return 0, *d.Height, *d.Width, nil
	}
	return 0, 0, 0, errors.New("want shortest_edge or height and width")
}

// ParseConfig parses preprocessor_config.json; absent keys take
// CLIPImageProcessor's defaults.
func ParseConfig(b []byte) (Config, error) {
	var r rawConfig
	if err := json.Unmarshal(b, &r); err != nil {
		return Config{}, fmt.Errorf("parse: %w", err)
	}
	c := Default()
	var errs []error
	if len(r.Size) > 0 {
		n, h, w, err := sizeDict(r.Size)
		if err != nil {
			errs = append(errs, fmt.Errorf("size: %w", err))
		}
		c.ShortestEdge, c.ResizeHeight, c.ResizeWidth = n, h, w
	}
	if len(r.CropSize) > 0 {
		n, h, w, err := sizeDict(r.CropSize)
		if err != nil {
			errs = append(errs, fmt.Errorf("crop_size: %w", err))
		}
		if n > 0 {
			h, w = n, n
		}
		c.CropHeight, c.CropWidth = h, w
	}
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&c.DoResize, r.DoResize)
	set(&c.DoRescale, r.DoRescale)
	set(&c.DoNormalize, r.DoNormalize)
	if r.DoCenterCrop != nil && !*r.DoCenterCrop {
		errs = append(errs, errors.New("do_center_crop false: the vision tower needs a fixed-size input"))
	}
	if r.RescaleFactor != nil {
		c.RescaleFactor = *r.RescaleFactor
	}
	if r.Resample != nil && *r.Resample != BicubicResample {
		errs = append(errs, fmt.Errorf("resample %d: only %d (bicubic) is supported", *r.Resample, BicubicResample))
	}
	for _, v := range []struct {
		name string
		src  []float64
		dst  *[3]float32
	}{{"image_mean", r.Mean, &c.Mean}, {"image_std", r.Std, &c.Std}} {
		if v.src == nil {
			continue
		}
		if len(v.src) != 3 {
			errs = append(errs, fmt.Errorf("%s: want 3 values, got %d", v.name, len(v.src)))
			continue
		}
		for i, x := range v.src {
			v.dst[i] = float32(x)
		}
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// Validate checks that the settings describe a preprocessing mclip can run.
func (c Config) Validate() error {
	var errs []error
	if _, err := ParseKind(string(c.Kind)); err != nil {
		errs = append(errs, err)
	}
	if c.DoResize && c.ShortestEdge <= 0 && (c.ResizeHeight <= 0 || c.ResizeWidth <= 0) {
		errs = append(errs, errors.New("size: want a positive shortest_edge or height and width"))
	}
	if c.CropHeight <= 0 || c.CropWidth <= 0 {
		errs = append(errs, fmt.Errorf("crop_size %dx%d: want positive", c.CropWidth, c.CropHeight))
	}
	if c.CropHeight > 4096 || c.CropWidth > 4096 || c.ShortestEdge > 4096 {
		errs = append(errs, errors.New("size or crop_size above 4096"))
	}
	for i, s := range c.Std {
		if c.DoNormalize && s == 0 {
			errs = append(errs, fmt.Errorf("image_std[%d] is zero", i))
		}
	}
	return errors.Join(errs...)
}

// OutputSize is the size the image is resized to: for a shortest edge the
// long side is int(size*long/short), truncated (transformers'
// get_resize_output_image_size(default_to_square=False), and torchvision's
// _compute_resized_output_size for open_clip's Resize(size)), the fixed
// size otherwise.
func (c Config) OutputSize(w, h int) (nw, nh int) {
	if !c.DoResize {
		return w, h
	}
	if c.ShortestEdge <= 0 {
		return c.ResizeWidth, c.ResizeHeight
	}
	s := c.ShortestEdge
	if w <= h {
		return s, int(float64(s*h) / float64(w))
	}
	return int(float64(s*w) / float64(h)), s
}
