package text

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mclip-go/mclip/modelstore"
)

// Settings are read from the sentence-transformers files of MODEL_DIR/text,
// never from constants.
type Settings struct {
	// MaxSeqLength is sentence_bert_config.json's max_seq_length: texts are
	// truncated to this many tokens, [CLS] and [SEP] included.
	MaxSeqLength int
	// DoLowerCase lowercases texts before tokenizing, as sentence-transformers
	// does when the flag is set.
	DoLowerCase bool
	// Hidden is the transformer's output width (config.json dim/hidden_size).
	Hidden int
	// Pooling is one of "mean", "cls", "max", "mean_sqrt_len".
	Pooling string
	// DenseIn and DenseOut are the Dense layer's shape; DenseBias tells
	// whether it has a bias; DenseActivation is its activation function.
	DenseIn, DenseOut int
	DenseBias         bool
	DenseActivation   string
	// PoolingDir and DenseDir are the module directories from modules.json,
	// relative to MODEL_DIR/text.
	PoolingDir, DenseDir string
}

type stModule struct {
	Idx  int    `json:"idx"`
	Name string `json:"name"`
	Path string `json:"path"`
	Type string `json:"type"`
}

// LoadSettings reads and cross-checks the settings files.
func LoadSettings(dir modelstore.Dir) (Settings, error) {
	var s Settings

	var modules []stModule
	if err := readJSON(dir.Text(modelstore.ModulesJSON), &modules); err != nil {
		return s, err
	}
	var kinds []string
	for _, m := range modules {
		kind := m.Type[strings.LastIndex(m.Type, ".")+1:]
		kinds = append(kinds, kind)
		switch kind {
		case "Transformer":
		case "Pooling":
			s.PoolingDir = m.Path
		case "Dense":
			s.DenseDir = m.Path
		default:
			return s, fmt.Errorf("%s: module %q (%s) is not supported: mclip runs Transformer, Pooling, Dense", dir.Text(modelstore.ModulesJSON), m.Name, m.Type)
		}
	}
	if strings.Join(kinds, ",") != "Transformer,Pooling,Dense" {
		return s, fmt.Errorf("%s: modules are %v, want Transformer, Pooling, Dense in that order", dir.Text(modelstore.ModulesJSON), kinds)
	}

	var sbert struct {
		MaxSeqLength int  `json:"max_seq_length"`
		DoLowerCase  bool `json:"do_lower_case"`
	}
	if err := readJSON(dir.Text(modelstore.SentenceBertConfig), &sbert); err != nil {
		return s, err
	}
	s.MaxSeqLength, s.DoLowerCase = sbert.MaxSeqLength, sbert.DoLowerCase

	var cfg struct {
		Dim                   int `json:"dim"`
		HiddenSize            int `json:"hidden_size"`
		MaxPositionEmbeddings int `json:"max_position_embeddings"`
	}
	if err := readJSON(dir.Text(modelstore.TextConfigJSON), &cfg); err != nil {
		return s, err
	}
	s.Hidden = cfg.Dim
	if s.Hidden == 0 {
		s.Hidden = cfg.HiddenSize
	}
	if s.Hidden <= 0 {
		return s, fmt.Errorf("%s: no dim or hidden_size", dir.Text(modelstore.TextConfigJSON))
	}
	if s.MaxSeqLength < 2 || (cfg.MaxPositionEmbeddings > 0 && s.MaxSeqLength > cfg.MaxPositionEmbeddings) {
		return s, fmt.Errorf("%s: max_seq_length %d must be between 2 and max_position_embeddings (%d)",
			dir.Text(modelstore.SentenceBertConfig), s.MaxSeqLength, cfg.MaxPositionEmbeddings)
	}

	var pool struct {
		WordEmbeddingDimension int  `json:"word_embedding_dimension"`
		CLS                    bool `json:"pooling_mode_cls_token"`
		Mean                   bool `json:"pooling_mode_mean_tokens"`
		Max                    bool `json:"pooling_mode_max_tokens"`
		MeanSqrtLen            bool `json:"pooling_mode_mean_sqrt_len_tokens"`
		WeightedMean           bool `json:"pooling_mode_weightedmean_tokens"`
		LastToken              bool `json:"pooling_mode_lasttoken"`
	}
	poolPath := dir.Text(filepath.ToSlash(filepath.Join(s.PoolingDir, "config.json")))
	if err := readJSON(poolPath, &pool); err != nil {
		return s, err
	}
	var modes []string
	for _, m := range []struct {
		on   bool
		name string
	}{{pool.CLS, "cls"}, {pool.Mean, "mean"}, {pool.Max, "max"}, {pool.MeanSqrtLen, "mean_sqrt_len"}, {pool.WeightedMean, "weightedmean"}, {pool.LastToken, "lasttoken"}} {
		if m.on {
			modes = append(modes, m.name)
		}
	}
	if len(modes) != 1 || modes[0] == "weightedmean" || modes[0] == "lasttoken" {
		return s, fmt.Errorf("%s: pooling modes %v: mclip supports exactly one of mean, cls, max, mean_sqrt_len", poolPath, modes)
	}
	s.Pooling = modes[0]
	if pool.WordEmbeddingDimension != s.Hidden {
		return s, fmt.Errorf("%s: word_embedding_dimension %d does not match the transformer's %d", poolPath, pool.WordEmbeddingDimension, s.Hidden)
	}

	var dense struct {
		In         int    `json:"in_features"`
		Out        int    `json:"out_features"`
		Bias       bool   `json:"bias"`
		Activation string `json:"activation_function"`
	}
	densePath := dir.Text(filepath.ToSlash(filepath.Join(s.DenseDir, "config.json")))
	if err := readJSON(densePath, &dense); err != nil {
		return s, err
	}
	s.DenseIn, s.DenseOut, s.DenseBias, s.DenseActivation = dense.In, dense.Out, dense.Bias, dense.Activation
	if s.DenseIn != s.Hidden {
		return s, fmt.Errorf("%s: in_features %d does not match the transformer's %d", densePath, s.DenseIn, s.Hidden)
	}
	if s.DenseOut <= 0 {
		return s, fmt.Errorf("%s: out_features %d", densePath, s.DenseOut)
	}
	switch s.DenseActivation {
	case "torch.nn.modules.linear.Identity", "":
		s.DenseActivation = "identity"
	case "torch.nn.modules.activation.Tanh":
		s.DenseActivation = "tanh"
	default:
		return s, fmt.Errorf("%s: activation_function %q is not supported (Identity or Tanh)", densePath, dense.Activation)
	}
	return s, nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read model settings: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}
