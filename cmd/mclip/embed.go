package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/mclip-go/mclip/vectorizer"
)

func init() {
	register("embed", "print the vectors of texts (any language) and images as JSON",
		"mclip embed --text \"ein Hund im Schnee\" --text \"a cat\" dog.jpg cat.jpg", runEmbed)
	register("similarity", "print the cosine similarity of texts against images",
		"mclip similarity --text \"A dog in the snow\" --text \"Eine Katze\" dog.jpg cat.jpg\nmclip similarity --format json --texts-file captions.txt photos/*.jpg", runSimilarity)
	register("tokenize", "print the token ids the text model sees, to diff against Hugging Face",
		"mclip tokenize --text \"Hello, world!\" --text \"こんにちは世界\"", runTokenize)
}

type textResult struct {
	Text   string    `json:"text"`
	Vector []float32 `json:"vector,omitempty"`
	Error  string    `json:"error,omitempty"`
}

type imageResult struct {
	Path   string    `json:"path"`
	Vector []float32 `json:"vector,omitempty"`
	Error  string    `json:"error,omitempty"`
}

type embedOutput struct {
	Texts  []textResult  `json:"texts"`
	Images []imageResult `json:"images"`
}

// embedAll loads the models and encodes every text and image.
func embedAll(ctx context.Context, in *inputFlags, paths []string, stderr io.Writer) (embedOutput, error) {
	out := embedOutput{Texts: []textResult{}, Images: []imageResult{}}
	texts, err := in.collectTexts()
	if err != nil {
		return out, usageError{err}
	}
	if len(texts) == 0 && len(paths) == 0 {
		return out, usageError{fmt.Errorf("nothing to encode: give --text, --texts-file, --texts-json or image paths")}
	}
	cfg, err := in.settings()
	if err != nil {
		return out, err
	}
	v, err := vectorizer.Open(ctx, cfg, vectorizer.OpenOptions{Towers: towersFor(len(texts), len(paths)), Log: stderr})
	if err != nil {
		return out, err
	}
	defer v.Close()

	if len(texts) > 0 {
		vecs, errs := v.EncodeTexts(ctx, texts)
		for i, t := range texts {
			r := textResult{Text: t, Vector: vecs[i]}
			if errs[i] != nil {
				r.Error, r.Vector = errs[i].Error(), nil
			}
			out.Texts = append(out.Texts, r)
		}
	}
	if len(paths) > 0 {
		data := make([][]byte, len(paths))
		readErrs := make([]error, len(paths))
		for i, p := range paths {
			data[i], readErrs[i] = os.ReadFile(p)
		}
		vecs, errs := v.EncodeImages(ctx, data)
		for i, p := range paths {
			r := imageResult{Path: p, Vector: vecs[i]}
			switch {
			case readErrs[i] != nil:
				r.Error, r.Vector = readErrs[i].Error(), nil
			case errs[i] != nil:
				r.Error, r.Vector = errs[i].Error(), nil
			}
			out.Images = append(out.Images, r)
		}
	}
	return out, nil
}

// towersFor names the towers a run with nTexts texts and nImages images
// needs: a one-off command does not pay to load a tower it does not use.
func towersFor(nTexts, nImages int) vectorizer.Towers {
	var t vectorizer.Towers
	if nTexts > 0 {
		t |= vectorizer.TowerText
	}
	if nImages > 0 {
		t |= vectorizer.TowerVision
	}
	return t
}

func (o embedOutput) failed() bool {
	for _, t := range o.Texts {
		if t.Error != "" {
			return true
		}
	}
	for _, im := range o.Images {
		if im.Error != "" {
			return true
		}
	}
	return false
}

func runEmbed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("embed", stderr)
	var in inputFlags
	in.register(fs)
	format := fs.String("format", "json", "output format: json or table")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mclip embed [--model TAG] [--model-dir DIR] [--text T]... [--texts-file F] [--texts-json F] [--format json|table] [IMAGE...]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	out, err := embedAll(ctx, &in, fs.Args(), stderr)
	if err != nil {
		return err
	}
	if *format == "table" {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tINPUT\tNORM\tVECTOR")
		for _, t := range out.Texts {
			fmt.Fprintf(tw, "text\t%s\t%s\n", clip(t.Text, 40), vectorCell(t.Vector, t.Error))
		}
		for _, im := range out.Images {
			fmt.Fprintf(tw, "image\t%s\t%s\n", clip(im.Path, 40), vectorCell(im.Vector, im.Error))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	} else if err := writeJSON(stdout, out); err != nil {
		return err
	}
	if out.failed() {
		return errExit1
	}
	return nil
}

type similarityOutput struct {
	Texts  []textResult  `json:"texts"`
	Images []imageResult `json:"images"`
	// Cosine[i][j] is the cosine similarity of text i and image j (null
	// where either failed).
	Cosine [][]*float64 `json:"cosine"`
	// Best[i] is the index of text i's most similar image (-1 if none).
	Best []int `json:"best"`
}

func runSimilarity(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("similarity", stderr)
	var in inputFlags
	in.register(fs)
	format := fs.String("format", "table", "output format: table or json")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mclip similarity [--model TAG] [--model-dir DIR] --text T [--text T]... [--texts-file F] [--texts-json F] [--format table|json] IMAGE...")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{fmt.Errorf("give at least one image path after the flags")}
	}
	emb, err := embedAll(ctx, &in, fs.Args(), stderr)
	if err != nil {
		return err
	}
	if len(emb.Texts) == 0 {
		return usageError{fmt.Errorf("give at least one text (--text, --texts-file or --texts-json)")}
	}
	out := similarityOutput{Texts: emb.Texts, Images: emb.Images}
	for _, t := range emb.Texts {
		row := make([]*float64, len(emb.Images))
		best, bestScore := -1, math.Inf(-1)
		for j, im := range emb.Images {
			if t.Vector == nil || im.Vector == nil {
				continue
			}
			c := vectorizer.Cosine(t.Vector, im.Vector)
			row[j] = &c
			if c > bestScore {
				best, bestScore = j, c
			}
		}
		out.Cosine = append(out.Cosine, row)
		out.Best = append(out.Best, best)
	}
	if *format == "json" {
		for i := range out.Texts {
			out.Texts[i].Vector = nil
		}
		for i := range out.Images {
			out.Images[i].Vector = nil
		}
		if err := writeJSON(stdout, out); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		header := []string{"TEXT"}
		for _, im := range emb.Images {
			header = append(header, clip(baseName(im.Path), 24))
		}
		header = append(header, "BEST")
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for i, t := range emb.Texts {
			cells := []string{clip(t.Text, 40)}
			for _, c := range out.Cosine[i] {
				if c == nil {
					cells = append(cells, "error")
				} else {
					cells = append(cells, fmt.Sprintf("%.4f", *c))
				}
			}
			if b := out.Best[i]; b >= 0 {
				cells = append(cells, baseName(emb.Images[b].Path))
			} else {
				cells = append(cells, "-")
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, t := range emb.Texts {
			if t.Error != "" {
				fmt.Fprintf(stderr, "text %q: %s\n", t.Text, t.Error)
			}
		}
		for _, im := range emb.Images {
			if im.Error != "" {
				fmt.Fprintf(stderr, "image %s: %s\n", im.Path, im.Error)
			}
		}
	}
	if emb.failed() {
		return errExit1
	}
	return nil
}

type tokenizeResult struct {
	Text          string  `json:"text"`
	InputIDs      []int64 `json:"input_ids,omitempty"`
	AttentionMask []int64 `json:"attention_mask,omitempty"`
	Error         string  `json:"error,omitempty"`
}

func runTokenize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tokenize", stderr)
	var in inputFlags
	in.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mclip tokenize [--model TAG] [--model-dir DIR] [--text T]... [--texts-file F] [--texts-json F]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("tokenize takes no positional arguments (got %q)", fs.Arg(0))}
	}
	texts, err := in.collectTexts()
	if err != nil {
		return usageError{err}
	}
	cfg, err := in.settings()
	if err != nil {
		return err
	}
	dir, err := vectorizer.ResolveDir(ctx, cfg, vectorizer.OpenOptions{Log: stderr})
	if err != nil {
		return err
	}
	prep, err := vectorizer.LoadTextPreparer(cfg, dir)
	if err != nil {
		return err
	}
	out := struct {
		Texts []tokenizeResult `json:"texts"`
	}{Texts: []tokenizeResult{}}
	failed := false
	for _, t := range texts {
		ids, err := prep.Tokenize(t)
		r := tokenizeResult{Text: t}
		if err != nil {
			r.Error, failed = err.Error(), true
		} else {
			r.InputIDs = ids
			r.AttentionMask = make([]int64, len(ids))
			for i := range r.AttentionMask {
				r.AttentionMask[i] = 1
			}
		}
		out.Texts = append(out.Texts, r)
	}
	if err := writeJSON(stdout, out); err != nil {
		return err
	}
	if failed {
		return errExit1
	}
	return nil
}

func checkFormat(f string) error {
	if f != "json" && f != "table" {
		return usageError{fmt.Errorf("--format %q: want json or table", f)}
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func vectorCell(v []float32, errText string) string {
	if errText != "" {
		return "-\terror: " + errText
	}
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	head := make([]string, 0, 4)
	for _, x := range v[:min(4, len(v))] {
		head = append(head, fmt.Sprintf("%.4f", x))
	}
	return fmt.Sprintf("%.4f\t[%s ...] (%d dims)", math.Sqrt(n), strings.Join(head, " "), len(v))
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
