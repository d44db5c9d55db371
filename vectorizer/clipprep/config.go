// Package clipprep reproduces transformers' CLIPImageProcessor (4.x) as
// sentence-transformers' clip-ViT-B-32 runs it on a Pillow RGB image:
// resize so the shortest edge is 224 with Pillow's bicubic filter (bit-exact
// port of libImaging/Resample.c's fixed-point 8-bit path), center crop 224,
// rescale by 1/255 and normalize with the CLIP mean and std, as NCHW
// float32.
//
// Where transformers misbehaves, mclip does what it means instead:
//   - images 1 or 3 pixels high (or wide) are taken as channels-first by
//     transformers' infer_channel_dimension_format; here height and width
//     are always the image's own;
//   - a long thin image (1x4000) is resized by transformers to 224x896000
//     before the crop throws almost all of it away; here only the rows and
//     columns that survive the crop are computed (each output pixel depends
//     only on its own coordinates, so the result is identical).
package clipprep

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// BicubicResample is PIL.Image.BICUBIC, the only filter CLIP uses.
const BicubicResample = 3

// Config holds the preprocessor_config.json settings mclip uses.
type Config struct {
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
		ShortestEdge: 224, CropHeight: 224, CropWidth: 224,
		DoResize: true, DoRescale: true, DoNormalize: true,
		RescaleFactor: 1.0 / 255,
		Mean:          [3]float32{0.48145466, 0.4578275, 0.40821073},
		Std:           [3]float32{0.26862954, 0.26130258, 0.27577711},
	}
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

// OutputSize is the size transformers' CLIPImageProcessor resizes a w x h
// image to: get_resize_output_image_size(default_to_square=False) for a
// shortest edge (the long side is int(size*long/short), truncated), the
// fixed size otherwise.
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
