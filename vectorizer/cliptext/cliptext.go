// Package cliptext is the text tower of the CLIP models: CLIP's text
// transformer with its projection, one ONNX graph taking input_ids and
// returning text_embeds (the Xenova exports' contract, which
// modelfile/clipgraph's graphs follow), fed by the model's tokenizer.
//
// The vectors are text_embeds as the graph returns them; the vectorizer
// normalises them where the model's image does.
//
// The graph pools one position per text (the end-of-text token, or the
// highest id, as the catalog says the graph was built). The transformer is
// causal, so the tokens after that position never reach it: texts of
// different lengths share a model call, padded with their own last token,
// which keeps both the first end-of-text token and the highest id where
// they were, and give the vectors they give alone.
package cliptext

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer/onnxsession"
	"github.com/mclip-go/mclip/vectorizer/text"
)

// Tokenizer turns a text into the ids the model sees, special tokens
// included, at most maxLen of them.
type Tokenizer interface {
	Encode(text string, maxLen int) []int64
}

// Options configure the encoder.
type Options struct {
	Variant modelstore.Variant
	Session onnxsession.Options
	// BatchSize is the most texts sent to the model in one call.
	BatchSize int
	// MaxTextBytes rejects longer texts with text.ErrTooLong (0: no limit).
	MaxTextBytes int
	// MaxTokens truncates the ids (0: the config's max_position_embeddings).
	MaxTokens int
}

// Graph inputs and outputs.
var (
	graphInputs  = []onnxsession.Want{{Names: []string{"input_ids"}, Type: ort.TensorElementDataTypeInt64, Rank: 2}}
	graphOutputs = []onnxsession.Want{{Names: []string{"text_embeds"}, Type: ort.TensorElementDataTypeFloat, Rank: 2}}
)

// OpenGraph opens a CLIP text graph, checked against the input and output
// the encoder feeds and reads.
func OpenGraph(path string, opts onnxsession.Options) (*onnxsession.Session, error) {
	return onnxsession.Open(path, opts, graphInputs, graphOutputs)
}

// Preparer turns a text into the ids the model sees, without the model
// (for `mclip tokenize`).
type Preparer struct {
	tok          Tokenizer
	maxTokens    int
	maxTextBytes int
}

// NewPreparer truncates to the config's positions, or to maxTokens when
// fewer (0: the config's), and rejects texts over maxTextBytes (0: no
// limit).
func NewPreparer(tok Tokenizer, cfg Config, maxTokens, maxTextBytes int) (*Preparer, error) {
	n := cfg.TextConfig.MaxPositions
	if maxTokens > 0 && maxTokens < n {
		n = maxTokens
	}
	if n < 2 {
		return nil, fmt.Errorf("text model: %d positions cannot hold a text between its start and end tokens", n)
	}
	return &Preparer{tok: tok, maxTokens: n, maxTextBytes: maxTextBytes}, nil
}

// Encoder turns texts into vectors. It is safe for concurrent use.
type Encoder struct {
	*Preparer
	sess *onnxsession.Session
	dim  int
	opts Options
}

// Config is what the encoder reads of the text tower's config.json (a
// CLIPConfig: the projection and the text config's positions).
type Config struct {
	ProjectionDim int `json:"projection_dim"`
	TextConfig    struct {
		MaxPositions int `json:"max_position_embeddings"`
	} `json:"text_config"`
}

// ReadConfig reads and checks a CLIPConfig's projection_dim and
// text_config.max_position_embeddings.
func ReadConfig(path string) (Config, error) {
	var c Config
	b, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	if c.ProjectionDim <= 0 || c.TextConfig.MaxPositions <= 0 {
		return c, fmt.Errorf("%s: want a positive projection_dim and text_config.max_position_embeddings, got %d and %d",
			path, c.ProjectionDim, c.TextConfig.MaxPositions)
	}
	return c, nil
}

// Load opens the text tower of a model directory with the tokenizer given
// (read from its tokenizer.json by the caller).
func Load(dir modelstore.Dir, tok Tokenizer, opts Options) (*Encoder, error) {
	cfg, err := ReadConfig(dir.Text(modelstore.TextConfigJSON))
	if err != nil {
		return nil, fmt.Errorf("text model: %w", err)
	}
	graph, err := dir.TextGraph(opts.Variant)
	if err != nil {
		return nil, fmt.Errorf("text model: %w", err)
	}
	sess, err := OpenGraph(graph, opts.Session)
	if err != nil {
		return nil, fmt.Errorf("text model: %w", err)
	}
	return New(tok, sess, cfg, opts)
}

// New puts a tokenizer and an open graph together; the encoder owns the
// session from then on.
func New(tok Tokenizer, sess *onnxsession.Session, cfg Config, opts Options) (*Encoder, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = config.DefaultBatchSize
	}
	prep, err := NewPreparer(tok, cfg, opts.MaxTokens, opts.MaxTextBytes)
	if err != nil {
		sess.Close()
		return nil, err
	}
	return &Encoder{Preparer: prep, sess: sess, dim: cfg.ProjectionDim, opts: opts}, nil
}

// Close releases the ONNX session.
func (e *Encoder) Close() error { return e.sess.Close() }

// Dimensions is the length of the vectors.
func (e *Encoder) Dimensions() int { return e.dim }

// Session returns the ONNX session.
func (e *Encoder) Session() *onnxsession.Session { return e.sess }

// Tokenize returns the ids the model sees for a text: invalid UTF-8 read
// as U+FFFD, truncated to the model's positions (the tokenizer keeps the
// end-of-text token last).
func (e *Preparer) Tokenize(s string) ([]int64, error) {
	if e.maxTextBytes > 0 && len(s) > e.maxTextBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than the limit of %d (%s)", text.ErrTooLong, len(s), e.maxTextBytes, config.EnvMaxTextBytes)
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	ids := e.tok.Encode(s, e.maxTokens)
	if len(ids) == 0 {
		return nil, errors.New("the tokenizer returned no ids")
	}
	return ids, nil
}

// Encode returns one vector per text, in input order. A text that fails
// gets a nil vector and its error; the others are unaffected.
func (e *Encoder) Encode(ctx context.Context, texts []string) ([][]float32, []error) {
	vecs := make([][]float32, len(texts))
	errs := make([]error, len(texts))
	ids := make([][]int64, len(texts))
	var order []int
	for i, t := range texts {
		if ids[i], errs[i] = e.Tokenize(t); errs[i] == nil {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return len(ids[order[a]]) < len(ids[order[b]]) })
	for start := 0; start < len(order); start += e.opts.BatchSize {
		chunk := order[start:min(start+e.opts.BatchSize, len(order))]
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

// EncodeIDs runs one model call on tokenized texts, each padded with its
// own last id to the longest.
func (e *Encoder) EncodeIDs(batch [][]int64) ([][]float32, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	seq := 0
	for _, ids := range batch {
		if len(ids) == 0 {
			return nil, errors.New("empty token sequence")
		}
		if len(ids) > e.maxTokens {
			return nil, fmt.Errorf("%d ids, more than the model's %d positions", len(ids), e.maxTokens)
		}
		seq = max(seq, len(ids))
	}
	n := len(batch)
	input := make([]int64, n*seq)
	for b, ids := range batch {
		row := input[b*seq : (b+1)*seq]
		copy(row, ids)
		for k := len(ids); k < seq; k++ {
			row[k] = ids[len(ids)-1]
		}
	}
	idsT, err := ort.NewTensor(ort.NewShape(int64(n), int64(seq)), input)
	if err != nil {
		return nil, fmt.Errorf("input_ids tensor: %w", err)
	}
	defer idsT.Destroy()
	out := make([]float32, n*e.dim)
	outT, err := ort.NewTensor(ort.NewShape(int64(n), int64(e.dim)), out)
	if err != nil {
		return nil, fmt.Errorf("output tensor: %w", err)
	}
	defer outT.Destroy()
	if err := e.sess.Run([]ort.Value{idsT}, []ort.Value{outT}); err != nil {
		return nil, err
	}
	vecs := make([][]float32, n)
	for b := range vecs {
		vecs[b] = out[b*e.dim : (b+1)*e.dim : (b+1)*e.dim]
	}
	return vecs, nil
}
