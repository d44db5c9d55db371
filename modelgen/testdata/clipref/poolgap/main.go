// Command poolgap measures how far apart the two text pooling rules put
// MetaCLIP 2's text vectors: it generates the full-size text and vision
// checkpoint of facebook/metaclip-2-worldwide-b32-384 (random weights,
// XLM-V's 901,629-token table, about 2.3 GB) in a temporary directory,
// builds its text graph pooled at EOS (the model's own rule) and at
// input_ids.argmax() (what transformers' CLIPModel does with EOS id 2),
// runs both over a multilingual corpus (vectorizer/tokenize's
// corpus.jsonl, several dozen languages and scripts) and prints the
// cosine similarity of each text's two L2-normalised vectors.
//
// XLM-V's tokenizer is not part of this command: texts are split into
// words, CJK characters and punctuation, and each distinct piece gets an
// id by its corpus frequency, rarer pieces higher, spread over XLM-V's id
// range, as SentencePiece orders its vocabulary by piece score; <s> 0, </s>
// 2, <pad> 1, at most 77 ids. What matters to the two rules is where the
// highest id falls relative to </s>, which this ordering reproduces.
//
//	go run ./modelgen/testdata/clipref/poolgap [-corpus FILE] [-n TEXTS]
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/mclip-go/mclip/modelfile/clipgraph"
	"github.com/mclip-go/mclip/modelgen"
	"github.com/mclip-go/mclip/vectorizer/ortlib"
)

func main() {
	corpus := flag.String("corpus", "vectorizer/tokenize/testdata/corpus.jsonl", "JSON lines with a \"text\" field")
	n := flag.Int("n", 0, "texts to measure (0: all with at least three pieces)")
	seed := flag.Int64("seed", 7, "weights seed")
	flag.Parse()
	if err := run(*corpus, *n, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "poolgap:", err)
		os.Exit(1)
	}
}

func run(corpus string, limit int, seed int64) error {
	texts, err := readCorpus(corpus)
	if err != nil {
		return err
	}
	rows := standInIDs(texts, 77)
	if limit > 0 && len(rows) > limit {
		rows = rows[:limit]
	}
	dir, err := os.MkdirTemp("", "poolgap")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintln(os.Stderr, "generating the full-size checkpoint in", dir)
	if _, err := modelgen.WriteCLIPCheckpoint(dir, modelgen.CLIPB32x384XLMV, modelgen.Full, seed, 0); err != nil {
		return err
	}
	ck, err := clipgraph.OpenCheckpoint(filepath.Join(dir, "model.safetensors"), filepath.Join(dir, "config.json"))
	if err != nil {
		return err
	}
	defer ck.Close()
	if err := ortlib.Init(""); err != nil {
		return err
	}
	vecs := map[clipgraph.Pooling][][]float64{}
	for _, pool := range []clipgraph.Pooling{clipgraph.PoolEOS, clipgraph.PoolArgmax} {
		path := filepath.Join(dir, "text_"+pool.String()+".onnx")
		fmt.Fprintln(os.Stderr, "building and running", path)
		if err := ck.WriteText(path, pool); err != nil {
			return err
		}
		v, err := embed(path, rows)
		if err != nil {
			return err
		}
		vecs[pool] = v
		os.Remove(path)
		os.Remove(filepath.Join(dir, clipgraph.ExternalDataName(path)))
	}
	cos := make([]float64, len(rows))
	for i := range rows {
		for j, x := range vecs[clipgraph.PoolEOS][i] {
			cos[i] += x * vecs[clipgraph.PoolArgmax][i][j]
		}
	}
	sorted := append([]float64(nil), cos...)
	sort.Float64s(sorted)
	mean := 0.0
	for _, c := range cos {
		mean += c
	}
	mean /= float64(len(cos))
	q := func(p float64) float64 { return sorted[int(p*float64(len(sorted)-1))] }
	fmt.Printf("texts %d; cosine(EOS-pooled, argmax-pooled), L2-normalised: mean %.3f, min %.3f, p10 %.3f, median %.3f, p90 %.3f, max %.3f\n",
		len(cos), mean, sorted[0], q(0.1), q(0.5), q(0.9), sorted[len(sorted)-1])
	return nil
}

func readCorpus(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var rec struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, rec.Text)
	}
	return out, sc.Err()
}

// pieces splits a text into words, single CJK characters and single
// punctuation marks.
func pieces(s string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			flush()
		case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) || unicode.IsPunct(r) || unicode.IsSymbol(r):
			flush()
			out = append(out, string(r))
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return out
}

// standInIDs gives each text's pieces ids by corpus frequency, rarer
// higher, spread over [4, XLMVVocab), framed by <s> (0) and </s> (2) and
// cut to max ids; texts of fewer than three pieces are left out.
func standInIDs(texts []string, max int) [][]int64 {
	freq := map[string]int{}
	split := make([][]string, len(texts))
	for i, t := range texts {
		split[i] = pieces(t)
		for _, p := range split[i] {
			freq[p]++
		}
	}
	vocab := make([]string, 0, len(freq))
	for p := range freq {
		vocab = append(vocab, p)
	}
	sort.Slice(vocab, func(i, j int) bool {
		if freq[vocab[i]] != freq[vocab[j]] {
			return freq[vocab[i]] > freq[vocab[j]]
		}
		return vocab[i] < vocab[j]
	})
	id := map[string]int64{}
	for rank, p := range vocab {
		id[p] = 4 + int64(rank)*int64(modelgen.XLMVVocab-5)/int64(len(vocab))
	}
	var rows [][]int64
	for _, ps := range split {
		if len(ps) < 3 {
			continue
		}
		row := []int64{0}
		for _, p := range ps {
			if len(row) == max-1 {
				break
			}
			row = append(row, id[p])
		}
		rows = append(rows, append(row, 2))
	}
	return rows
}

// embed runs the text graph over rows, 16 at a time padded with <pad>
// (1) after </s>, and returns the L2-normalised vectors.
func embed(path string, rows [][]int64) ([][]float64, error) {
	sess, err := ort.NewDynamicAdvancedSession(path, []string{clipgraph.InputIDs}, []string{clipgraph.TextEmbeds}, nil)
	if err != nil {
		return nil, err
	}
	defer sess.Destroy()
	var out [][]float64
	for start := 0; start < len(rows); start += 16 {
		batch := rows[start:min(start+16, len(rows))]
		width := 0
		for _, r := range batch {
			width = max(width, len(r))
		}
		flat := make([]int64, 0, len(batch)*width)
		for _, r := range batch {
			flat = append(flat, r...)
			for k := len(r); k < width; k++ {
				flat = append(flat, 1)
			}
		}
		x, err := ort.NewTensor(ort.NewShape(int64(len(batch)), int64(width)), flat)
		if err != nil {
			return nil, err
		}
		res := []ort.Value{nil}
		err = sess.Run([]ort.Value{x}, res)
		x.Destroy()
		if err != nil {
			return nil, err
		}
		y := res[0].(*ort.Tensor[float32])
		d := int(y.GetShape()[1])
		data := y.GetData()
		for i := range batch {
			v := make([]float64, d)
			norm := 0.0
			for j := range v {
				v[j] = float64(data[i*d+j])
				norm += v[j] * v[j]
			}
			for j := range v {
				v[j] /= math.Sqrt(norm)
			}
			out = append(out, v)
		}
		y.Destroy()
	}
	return out, nil
}
