// Package text is the multilingual text tower: sentence-transformers'
// clip-ViT-B-32-multilingual-v1 (DistilBERT, pooling, Dense) through ONNX
// Runtime, with Hugging Face-identical tokenization.
package text

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/onnxsession"
	"github.com/mclip-go/mclip/vectorizer/tokenize"
)

// Options configure the text encoder.
type Options struct {
	// Variant is the graph to load (fp32 or int8).
	Variant modelstore.Variant
	Session onnxsession.Options
	// BatchSize is the most texts sent to the model in one call.
	BatchSize int
	// MaxTextBytes rejects longer texts (0: no limit).
	MaxTextBytes int
}

// ErrTooLong is wrapped by the error of a text over the byte limit.
var ErrTooLong = errors.New("text too long")

// Preparer turns a text into the token ids the model sees, without the
// model itself (for `mclip tokenize`).
type Preparer struct {
	settings     Settings
	tok          *tokenize.Tokenizer
	maxTextBytes int
}

// LoadPreparer reads the settings and the tokenizer of MODEL_DIR/text.
func LoadPreparer(dir modelstore.Dir, maxTextBytes int) (*Preparer, error) {
	settings, err := LoadSettings(dir)
	if err != nil {
		return nil, fmt.Errorf("text model: %w", err)
	}
	tok, err := tokenize.LoadType(dir.Text(modelstore.TokenizerJSON), "WordPiece")
	if err != nil {
		return nil, fmt.Errorf("text model: %w", err)
	}
	return &Preparer{settings: settings, tok: tok, maxTextBytes: maxTextBytes}, nil
}

// Settings returns the settings read from the model directory.
func (p *Preparer) Settings() Settings { return p.settings }

// Tokenize returns the token ids the model sees for text: stripped as
// sentence-transformers strips it (Python's str.strip), lowercased when the
// model says so, tokenized and truncated to max_seq_length. Invalid UTF-8
// is read as U+FFFD, as Python decodes with errors="replace".
func (p *Preparer) Tokenize(text string) ([]int64, error) {
	if p.maxTextBytes > 0 && len(text) > p.maxTextBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than the limit of %d (MCLIP_MAX_TEXT_BYTES)", ErrTooLong, len(text), p.maxTextBytes)
	}
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	text = StripPython(text)
	if p.settings.DoLowerCase {
		text = strings.ToLower(text)
	}
	return p.tok.Encode(text, p.settings.MaxSeqLength), nil
}

// Encoder turns texts into vectors. It is safe for concurrent use.
type Encoder struct {
	*Preparer
	opts  Options
	sess  *onnxsession.Session
	dense *onnxsession.Session // the Dense layer, a graph of its own (see dense.go)
}

// Inputs and outputs of the text graph.
var (
	graphInputs = []onnxsession.Want{
		{Names: []string{"input_ids"}, Type: ort.TensorElementDataTypeInt64, Rank: 2},
		{Names: []string{"attention_mask"}, Type: ort.TensorElementDataTypeInt64, Rank: 2},
		{Names: []string{"token_type_ids"}, Type: ort.TensorElementDataTypeInt64, Rank: 2, Optional: true},
	}
	graphOutputs = []onnxsession.Want{
		{Names: []string{"last_hidden_state", "token_embeddings"}, Type: ort.TensorElementDataTypeFloat, Rank: 3},
	}
)

// OpenGraph opens a text graph, checked against the inputs and outputs the
// tower feeds and reads (for callers that feed it themselves, such as the
// benchmarks' bare model call).
func OpenGraph(path string, opts onnxsession.Options) (*onnxsession.Session, error) {
	return onnxsession.Open(path, opts, graphInputs, graphOutputs)
}

// Load opens the text tower of a model directory.
func Load(dir modelstore.Dir, opts Options) (*Encoder, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = config.DefaultBatchSize
	}
	prep, err := LoadPreparer(dir, opts.MaxTextBytes)
	if err != nil {
		return nil, err
	}
	settings := prep.settings
	dense, bias, err := loadDense(dir.Text(settings.DenseDir+"/model.safetensors"), settings)
	if err != nil {
		return nil, fmt.Errorf("text model: %w", err)
	}
	graph, err := dir.TextGraph(opts.Variant)
	if err != nil {
		return nil, fmt.Errorf("text model: %w", err)
	}
	denseSess, err := openDense(dense, bias, settings, opts.Session)
	if err != nil {
		return nil, fmt.Errorf("text model: %w", err)
	}
	sess, err := OpenGraph(graph, opts.Session)
	if err != nil {
		denseSess.Close()
		return nil, fmt.Errorf("text model: %w", err)
	}
	return &Encoder{Preparer: prep, opts: opts, sess: sess, dense: denseSess}, nil
}

// Close releases the ONNX sessions.
func (e *Encoder) Close() error { return errors.Join(e.sess.Close(), e.dense.Close()) }

// Dimensions is the length of the vectors.
func (e *Encoder) Dimensions() int { return e.settings.DenseOut }

// GraphPath is the ONNX file in use.
func (e *Encoder) GraphPath() string { return e.sess.Path() }

// Session returns the ONNX session (for what it loaded and fused).
func (e *Encoder) Session() *onnxsession.Session { return e.sess }

// Encode returns one vector per text, in input order, un-normalized. A text
// that fails gets a nil vector and its error; the others are unaffected.
func (e *Encoder) Encode(ctx context.Context, texts []string) ([][]float32, []error) {
	vecs := make([][]float32, len(texts))
	errs := make([]error, len(texts))
	ids := make([][]int64, len(texts))
	var order []int
	for i, t := range texts {
		tokens, err := e.Tokenize(t)
		if err != nil {
			errs[i] = err
			continue
		}
		ids[i] = tokens
		order = append(order, i)
	}
	// Sorting by length, then cutting where padding would cost more than
	// another call, keeps padding small inside each model call.
	sort.SliceStable(order, func(a, b int) bool { return len(ids[order[a]]) < len(ids[order[b]]) })
	lengths := make([]int, len(order))
	for k, i := range order {
		lengths[k] = len(ids[i])
	}
	start := 0
	for _, end := range chunks(lengths, e.opts.BatchSize) {
		chunk := order[start:end]
		start = end
		if err := ctx.Err(); err != nil {
			for _, i := range chunk {
				errs[i] = err
			}
			continue
		}
		batch := make([][]int64, len(chunk))
		for j, i := range chunk {
			batch[j] = ids[i]
		}
		out, err := e.EncodeIDs(batch)
		for j, i := range chunk {
			if err != nil {
				errs[i] = err
				continue
			}
			vecs[i] = out[j]
		}
	}
	return vecs, errs
}

// EncodeIDs runs one model call on already tokenized texts (each starting
// with [CLS] and ending with [SEP]) and pools and projects the result.
func (e *Encoder) EncodeIDs(batch [][]int64) ([][]float32, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	seq := 0
	for _, ids := range batch {
		if len(ids) == 0 {
			return nil, errors.New("empty token sequence")
		}
		seq = max(seq, len(ids))
	}
	n := len(batch)
	hidden := e.settings.Hidden
	buf := getBuffers(n*seq, n*seq*hidden)
	defer putBuffers(buf)
	inputIDs, mask, states := buf.ids, buf.mask, buf.states
	pad := e.tok.PadID()
	for b, ids := range batch {
		row := inputIDs[b*seq : (b+1)*seq]
		copy(row, ids)
		for k := len(ids); k < seq; k++ {
			row[k] = pad
		}
		mrow := mask[b*seq : (b+1)*seq]
		for k := range mrow {
			mrow[k] = 0
			if k < len(ids) {
				mrow[k] = 1
			}
		}
	}
	shape := ort.NewShape(int64(n), int64(seq))
	idsT, err := ort.NewTensor(shape, inputIDs)
	if err != nil {
		return nil, fmt.Errorf("input_ids tensor: %w", err)
	}
	defer idsT.Destroy()
	maskT, err := ort.NewTensor(shape, mask)
	if err != nil {
		return nil, fmt.Errorf("attention_mask tensor: %w", err)
	}
	defer maskT.Destroy()
	inputs := []ort.Value{idsT, maskT}
	if e.sess.Has(2) {
		types := buf.types
		clear(types)
		typeT, err := ort.NewTensor(shape, types)
		if err != nil {
			return nil, fmt.Errorf("token_type_ids tensor: %w", err)
		}
		defer typeT.Destroy()
		inputs = append(inputs, typeT)
	}
	outT, err := ort.NewTensor(ort.NewShape(int64(n), int64(seq), int64(hidden)), states)
	if err != nil {
		return nil, fmt.Errorf("output tensor: %w", err)
	}
	defer outT.Destroy()
	if err := e.sess.Run(inputs, []ort.Value{outT}); err != nil {
		return nil, err
	}
	pooled := buf.pooled(n, hidden)
	for b := range batch {
		e.pool(pooled[b*hidden:(b+1)*hidden], states[b*seq*hidden:(b+1)*seq*hidden], mask[b*seq:(b+1)*seq], buf.acc)
	}
	outDim := e.settings.DenseOut
	out := make([]float32, n*outDim)
	if err := e.project(out, pooled, n); err != nil {
		return nil, err
	}
	vecs := make([][]float32, n)
	for b := range vecs {
		vecs[b] = out[b*outDim : (b+1)*outDim : (b+1)*outDim]
	}
	return vecs, nil
}

// pool reduces one sequence's token states [seq, hidden] to dst [hidden]
// over the positions whose mask is 1, as sentence-transformers' Pooling.
func (e *Encoder) pool(dst, states []float32, mask []int64, acc []float64) {
	hidden := len(dst)
	count := 0
	for _, m := range mask {
		if m != 0 {
			count++
		}
	}
	switch e.settings.Pooling {
	case "cls":
		copy(dst, states[:hidden])
	case "max":
		for h := range dst {
			dst[h] = float32(math.Inf(-1))
		}
		for t, m := range mask {
			if m == 0 {
				continue
			}
			row := states[t*hidden : (t+1)*hidden]
			for h, v := range row {
				dst[h] = max(dst[h], v)
			}
		}
	default: // mean, mean_sqrt_len
		acc = acc[:hidden]
		clear(acc)
		for t, m := range mask {
			if m == 0 {
				continue
			}
			row := states[t*hidden : (t+1)*hidden]
			for h, v := range row {
				acc[h] += float64(v)
			}
		}
		div := math.Max(float64(count), 1e-9)
		if e.settings.Pooling == "mean_sqrt_len" {
			div = math.Sqrt(div)
		}
		for h := range dst {
			dst[h] = float32(acc[h] / div)
		}
	}
}

// StripPython removes leading and trailing whitespace as Python's
// str.strip() does: the characters str.isspace() accepts (not the BOM, not
// U+200B).
func StripPython(s string) string {
	return strings.TrimFunc(s, isPythonSpace)
}

func isPythonSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', 0x1c, 0x1d, 0x1e, 0x1f, ' ', 0x85, 0xa0,
		0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}
