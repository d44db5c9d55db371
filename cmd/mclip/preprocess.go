package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/clipprep"
	"github.com/mclip-go/mclip/vectorizer/imagedecode"
	"github.com/mclip-go/mclip/vectorizer/vision"
)

func init() {
	register("preprocess", "write the 224x224 crops CLIP sees, with their sha256",
		"mclip preprocess --out /tmp/crops photo.jpg scan.png", runPreprocess)
}

type preprocessResult struct {
	Path       string `json:"path"`
	Crop       string `json:"crop,omitempty"`
	CropSHA256 string `json:"crop_sha256,omitempty"`
	Width      int    `json:"width,omitempty"`
	Height     int    `json:"height,omitempty"`
	Error      string `json:"error,omitempty"`
}

func runPreprocess(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("preprocess", stderr)
	model := fs.String("model", "", modelFlagUsage)
	modelDir := fs.String("model-dir", "", "model directory; only vision/"+modelstore.PreprocessorConfig+" is read (default $"+config.EnvModelDir+")")
	outDir := fs.String("out", "", "directory for the crops (PNG), created if missing")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mclip preprocess [--model TAG] [--model-dir DIR] --out OUTDIR IMAGE...")
		fmt.Fprintln(stderr, "\nDecodes each image as Pillow does, resizes and center-crops it as CLIPImageProcessor does,")
		fmt.Fprintln(stderr, "writes the crop to OUTDIR/<name>.png and prints JSON with the sha256 of its raw RGB bytes.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *outDir == "" {
		return usageError{errors.New("--out is required")}
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("no images given")}
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	if *modelDir != "" {
		cfg.ModelDir = *modelDir
	}
	if *model != "" {
		cfg.Model = *model
	}
	// The crops are the model's image's: its preprocessing kind (the
	// catalog's) with its preprocessor_config.json.
	m, err := catalog.Runnable(cfg.Model)
	if err != nil {
		return usageError{fmt.Errorf("--model: %w", err)}
	}
	if cfg.ModelDir == "" {
		return usageError{errors.New("no model directory: pass --model-dir or set " + config.EnvModelDir)}
	}
	prep, err := clipprep.Load(clipprep.Kind(m.Vision.Preprocessing), m.Vision.InputSize,
		modelstore.LocalDir(cfg.ModelDir, m).Vision(modelstore.PreprocessorConfig))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	opts := vision.DecodeOptions(cfg)
	out := struct {
		Images []preprocessResult `json:"images"`
	}{Images: []preprocessResult{}}
	used := map[string]bool{}
	failed := false
	for _, path := range fs.Args() {
		r := preprocessResult{Path: path}
		if err := ctx.Err(); err != nil {
			r.Error = err.Error()
		} else if err := preprocessOne(path, cropName(*outDir, path, used), prep, opts, &r); err != nil {
			r.Error = err.Error()
		}
		if r.Error != "" {
			failed = true
			r.Crop, r.CropSHA256 = "", ""
			fmt.Fprintf(stderr, "image %s: %s\n", path, r.Error)
		}
		out.Images = append(out.Images, r)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	if failed {
		return errExit1
	}
	return nil
}

// cropName is OUTDIR/<file name without extension>.png, numbered when two
// inputs share a name.
func cropName(outDir, path string, used map[string]bool) string {
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	name := stem + ".png"
	for i := 2; used[name]; i++ {
		name = fmt.Sprintf("%s-%d.png", stem, i)
	}
	used[name] = true
	return filepath.Join(outDir, name)
}

func preprocessOne(path, dst string, prep clipprep.Config, opts imagedecode.Options, r *preprocessResult) error {
	data, err := readLimited(path, opts.MaxBytes)
	if err != nil {
		return err
	}
	size, crop, err := vision.DecodeCrop(data, prep, opts)
	if size != nil {
		r.Width, r.Height = size.Width, size.Height
	}
	if err != nil {
		return err
	}
	sum := sha256.Sum256(crop.Pix)
	r.CropSHA256 = hex.EncodeToString(sum[:])
	m := image.NewRGBA(image.Rect(0, 0, crop.Width, crop.Height))
	for i := 0; i < crop.Width*crop.Height; i++ {
		copy(m.Pix[4*i:4*i+3], crop.Pix[3*i:3*i+3])
		m.Pix[4*i+3] = 0xff
	}
	f, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("write crop: %w", err)
	}
	if err := png.Encode(f, m); err != nil {
		f.Close()
		return fmt.Errorf("write crop %s: %w", dst, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write crop %s: %w", dst, err)
	}
	r.Crop = dst
	return nil
}

// readLimited reads a file, refusing one larger than limit bytes before
// reading it whole.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && limit > 0 && st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes exceed the limit of %d (%s)", path, st.Size(), limit, config.EnvMaxImageBytes)
	}
	return io.ReadAll(f)
}
