package tokenize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"unicode/utf8"

	"github.com/sugarme/tokenizer"
	"github.com/sugarme/tokenizer/model/wordpiece"
	"github.com/sugarme/tokenizer/pretrained"
)

// Tokenizer encodes text into ids identically to Hugging Face tokenizers
// with the tokenizer.json it was loaded from: a BERT WordPiece one, CLIP's
// byte-level BPE or a SentencePiece Unigram. It is safe for concurrent use.
type Tokenizer struct {
	bpe *byteLevelBPE // set for CLIP's byte-level BPE
	uni *unigram      // set for SentencePiece Unigram; the fields below are WordPiece's

	model     *wordpiece.WordPiece // sugarme's; the reference wp is tested against
	wp        wordPiece
	specials  *specials
	clsID     int64
	sepID     int64
	padID     int64
	vocabSize int
}

// addedToken is an entry of tokenizer.json's added_tokens.
type addedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// check rejects the matching options this package does not implement.
func (a *addedToken) check() error {
	if a.SingleWord || a.LStrip || a.RStrip {
		return fmt.Errorf("added token %q: only single_word, lstrip and rstrip false are supported", a.Content)
	}
	if a.Content == "" {
		return fmt.Errorf("added token %d is empty", a.ID)
	}
	if a.ID < 0 {
		return fmt.Errorf("added token %q has negative id %d", a.Content, a.ID)
	}
	return nil
}

// config is the part of a WordPiece tokenizer.json this package interprets
// itself.
type config struct {
	AddedTokens []addedToken `json:"added_tokens"`
	Normalizer  *struct {
		Type               string `json:"type"`
		CleanText          bool   `json:"clean_text"`
		HandleChineseChars bool   `json:"handle_chinese_chars"`
		StripAccents       *bool  `json:"strip_accents"`
		Lowercase          bool   `json:"lowercase"`
	} `json:"normalizer"`
	PreTokenizer *struct {
		Type string `json:"type"`
	} `json:"pre_tokenizer"`
	PostProcessor *postProcessor `json:"post_processor"`
	Model         struct {
		Type                    string `json:"type"`
		UnkToken                string `json:"unk_token"`
		ContinuingSubwordPrefix string `json:"continuing_subword_prefix"`
		MaxInputCharsPerWord    int    `json:"max_input_chars_per_word"`
	} `json:"model"`
}

// Load reads a tokenizer.json. Supported are, by model type:
//   - WordPiece: a cased BERT tokenizer (BertNormalizer without lowercasing
//     or accent stripping, BertPreTokenizer, "[CLS] $A [SEP]") such as
//     distilbert-base-multilingual-cased's;
//   - BPE: CLIP's byte-level BPE (see byteLevelBPE) as in the
//     tokenizer.json of openai/clip-vit-base-patch32 and patch16 and of
//     the open_clip LAION models;
//   - Unigram: SentencePiece Unigram (see unigram) as transformers
//     converts XLM-R's and XLM-V's (facebook/metaclip-2-worldwide-*).
//
// Other files get an error naming the model type, normalizer,
// pre-tokenizer or post-processor that is not supported.
func Load(path string) (*Tokenizer, error) {
	return LoadType(path, "")
}

// LoadType is Load for a text tower that takes one model type only
// ("WordPiece", "BPE" or "Unigram"; its embedding table is that
// tokenizer's vocabulary): a file of another type is an error naming
// both. An empty modelType takes any supported type.
func LoadType(path, modelType string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read tokenizer: %w", err)
	}
	t, err := parse(data, modelType)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer %s: %w", path, err)
	}
	return t, nil
}

func parse(data []byte, want string) (*Tokenizer, error) {
	var head struct {
		Model struct {
			Type string `json:"type"`
		} `json:"model"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("parse json: %w", err)
	}
	if want != "" && head.Model.Type != want {
		return nil, fmt.Errorf("model type must be %s for this model's text tower, not %q", want, head.Model.Type)
	}
	switch head.Model.Type {
	case "WordPiece":
		return parseWordPiece(data)
	case "BPE":
		return parseByteLevelBPE(data)
	case "Unigram":
		return parseUnigram(data)
	}
	return nil, fmt.Errorf("model type %q unsupported, want WordPiece, BPE or Unigram", head.Model.Type)
}

func parseWordPiece(data []byte) (*Tokenizer, error) {
	var c config
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("parse json: %w", err)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	cls, sep, err := c.PostProcessor.clsSep()
	if err != nil {
		return nil, fmt.Errorf("post_processor: %w", err)
	}
	tk, err := sugarmeFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("build sugarme tokenizer: %w", err)
	}
	m, ok := tk.GetModel().(*wordpiece.WordPiece)
	if !ok {
		return nil, fmt.Errorf("model is %T, want WordPiece", tk.GetModel())
	}
	vocab := m.GetVocab()
	unk, ok := vocab[c.Model.UnkToken]
	if !ok {
		return nil, fmt.Errorf("unk token %q not in vocabulary", c.Model.UnkToken)
	}
	t := &Tokenizer{model: m, wp: wordPiece{
		vocab:    make(map[string]int64, len(vocab)),
		unkID:    int64(unk),
		maxChars: c.Model.MaxInputCharsPerWord,
	}}
	for tok, id := range vocab {
		t.wp.vocab[tok] = int64(id)
		t.wp.maxBytes = max(t.wp.maxBytes, len(tok))
	}

	byContent := map[string]int64{}
	maxID := len(vocab) - 1
	for _, id := range vocab {
		maxID = max(maxID, id)
	}
	for _, a := range c.AddedTokens {
		if err := a.check(); err != nil {
			return nil, err
		}
		if a.Normalized {
			return nil, fmt.Errorf("added token %q: only normalized false is supported with WordPiece", a.Content)
		}
		byContent[a.Content] = int64(a.ID)
		maxID = max(maxID, a.ID)
	}
	t.specials = newSpecials(byContent)
	t.vocabSize = maxID + 1

	t.clsID, t.sepID = cls, sep
	pad, ok := byContent["[PAD]"]
	if !ok {
		p, ok := vocab["[PAD]"]
		if !ok {
			return nil, fmt.Errorf("no [PAD] token")
		}
		pad = int64(p)
	}
	t.padID = pad
	return t, nil
}

// sugarmeFromJSON builds sugarme's tokenizer, turning its panics on
// unexpected configurations into errors.
func sugarmeFromJSON(data []byte) (tk *tokenizer.Tokenizer, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sugarme panicked: %v", r)
		}
	}()
	return pretrained.FromReader(bytes.NewReader(data))
}

func (c *config) check() error {
	n := c.Normalizer
	if n == nil || n.Type != "BertNormalizer" || !n.CleanText || !n.HandleChineseChars || n.Lowercase ||
		(n.StripAccents != nil && *n.StripAccents) {
		return fmt.Errorf("normalizer must be BertNormalizer with clean_text, handle_chinese_chars, no lowercase, no strip_accents")
	}
	if c.PreTokenizer == nil || c.PreTokenizer.Type != "BertPreTokenizer" {
		return fmt.Errorf("pre_tokenizer must be BertPreTokenizer")
	}
	// wordpiece.go uses "##" (sugarme v0.3.0 ignores the setting too).
	if c.Model.ContinuingSubwordPrefix != "##" {
		return fmt.Errorf("continuing_subword_prefix %q unsupported, want \"##\"", c.Model.ContinuingSubwordPrefix)
	}
	if c.Model.MaxInputCharsPerWord <= 0 {
		return fmt.Errorf("max_input_chars_per_word %d must be positive", c.Model.MaxInputCharsPerWord)
	}
	if c.PostProcessor == nil {
		return fmt.Errorf("post_processor missing: want \"[CLS] $A [SEP]\"")
	}
	return nil
}

// postProcessor is a TemplateProcessing "[CLS] $A [SEP]" or, in files
// written by older tokenizers versions, a BertProcessing; CLIP's files
// have a RobertaProcessing, which puts its cls and sep around the text as
// BertProcessing does (its other settings only move offsets).
type postProcessor struct {
	Type          string                           `json:"type"`
	Single        []map[string]struct{ ID string } `json:"single"`
	SpecialTokens map[string]struct {
		IDs []int `json:"ids"`
	} `json:"special_tokens"`
	Cls []any `json:"cls"` // BertProcessing: ["[CLS]", 101]
	Sep []any `json:"sep"`
}

// clsSep returns the ids put before and after the text.
func (p *postProcessor) clsSep() (cls, sep int64, err error) {
	switch p.Type {
	case "TemplateProcessing":
		if len(p.Single) != 3 {
			return 0, 0, fmt.Errorf("single template has %d items, want \"[CLS] $A [SEP]\"", len(p.Single))
		}
		if _, ok := p.Single[1]["Sequence"]; !ok {
			return 0, 0, fmt.Errorf("single template item 1 is not $A")
		}
		if cls, err = p.templateID(0); err != nil {
			return 0, 0, err
		}
		sep, err = p.templateID(2)
		return cls, sep, err
	case "BertProcessing", "RobertaProcessing":
		if cls, err = pairID(p.Cls); err != nil {
			return 0, 0, fmt.Errorf("cls: %w", err)
		}
		if sep, err = pairID(p.Sep); err != nil {
			return 0, 0, fmt.Errorf("sep: %w", err)
		}
		return cls, sep, nil
	}
	return 0, 0, fmt.Errorf("type %q unsupported, want TemplateProcessing, BertProcessing or RobertaProcessing", p.Type)
}

// templateID returns the id of the special token at position pos of the
// single-sequence template.
func (p *postProcessor) templateID(pos int) (int64, error) {
	st, ok := p.Single[pos]["SpecialToken"]
	if !ok {
		return 0, fmt.Errorf("single template item %d is not a special token", pos)
	}
	tok, ok := p.SpecialTokens[st.ID]
	if !ok || len(tok.IDs) != 1 {
		return 0, fmt.Errorf("special token %q must have exactly one id", st.ID)
	}
	return int64(tok.IDs[0]), nil
}

// pairID reads BertProcessing's ["token", id].
func pairID(v []any) (int64, error) {
	if len(v) != 2 {
		return 0, fmt.Errorf("want [token, id], got %v", v)
	}
	id, ok := v[1].(float64)
	if !ok || id < 0 || id != float64(int64(id)) {
		return 0, fmt.Errorf("want [token, id], got %v", v)
	}
	return int64(id), nil
}

// PadID is the id of [PAD] for WordPiece and of <pad> for Unigram; for
// CLIP's BPE, which has no padding token in tokenizer.json, it is
// <|endoftext|>, the pad_token of CLIPTokenizer in OpenAI's
// tokenizer_config.json.
func (t *Tokenizer) PadID() int64 { return t.padID }

// VocabSize is the number of ids (largest id plus one).
func (t *Tokenizer) VocabSize() int { return t.vocabSize }

// Encode returns the ids of "[CLS] text [SEP]". With maxLen >= 2 the result
// is truncated like HF's truncation=True, max_length=maxLen: the text's
// tokens are cut to maxLen-2 and the specials are kept. maxLen <= 0 means
// no truncation. maxLen == 1 cannot hold the two specials; HF then keeps
// every token up to and including those of the first word that goes
// through WordPiece (literal special tokens before it are all kept), and so
// does Encode.
//
// Invalid UTF-8 bytes are read as U+FFFD, as Python does when decoding with
// errors="replace"; BERT's normalizer then drops U+FFFD, so invalid bytes
// vanish without splitting words.
//
// For CLIP's BPE the ids are those of "<|startoftext|> text <|endoftext|>",
// with the same truncation (a "word" is a pre-token of CLIP's split), and
// invalid UTF-8 is read as one U+FFFD per maximal invalid subsequence, as
// Python and JavaScript decode it; U+FFFD is then a symbol like any other.
// For Unigram they are "<s> text </s>", truncated the same way (a "word"
// is a Metaspace piece), with the same reading of invalid UTF-8.
func (t *Tokenizer) Encode(text string, maxLen int) []int64 {
	if t.bpe != nil {
		return t.bpe.encode(text, maxLen)
	}
	if t.uni != nil {
		return t.uni.encode(text, maxLen)
	}
	limit, maxWords := -1, -1
	switch {
	case maxLen == 1:
		maxWords = 1
	case maxLen >= 2:
		limit = maxLen - 2
	}
	if !utf8.ValidString(text) {
		text = toValidUTF8(text)
	}
	size := len(text)/3 + 2
	if limit >= 0 {
		size = min(size, limit+2)
	}
	ids := make([]int64, 1, size)
	ids[0] = t.clsID
	e := encoder{t: t, ids: ids, limit: limit, maxWords: maxWords}
	for text != "" && !e.full() {
		start, n, id := t.specials.next(text)
		if start < 0 {
			e.text(text)
			break
		}
		e.text(text[:start])
		e.add(id)
		text = text[start+n:]
	}
	return append(e.ids, t.sepID)
}

// toValidUTF8 replaces every invalid byte with U+FFFD.
func toValidUTF8(s string) string {
	b := make([]byte, 0, len(s)+8)
	for _, r := range s {
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

// encoder accumulates the ids of one Encode call.
type encoder struct {
	t        *Tokenizer
	ids      []int64
	limit    int // tokens of the text allowed; -1 for no limit
	maxWords int // WordPiece words of the text allowed; -1 for no limit
	words    int
	word     []byte // the current word
	key      []byte // scratch for vocabulary look-ups
}

func (e *encoder) full() bool {
	return (e.limit >= 0 && len(e.ids)-1 >= e.limit) || (e.maxWords >= 0 && e.words >= e.maxWords)
}

func (e *encoder) add(id int64) {
	if !e.full() {
		e.ids = append(e.ids, id)
	}
}

// text normalizes and pre-tokenizes a span without added tokens, and runs
// WordPiece on each word.
func (e *encoder) text(s string) {
	e.word = e.word[:0]
	for _, r := range s {
		if e.full() {
			return
		}
		switch classOf(r) {
		case classLetter:
			e.word = utf8.AppendRune(e.word, r)
		case classRemoved:
		case classSpace:
			e.flush()
		case classSingle:
			e.flush()
			e.word = utf8.AppendRune(e.word, r)
			e.flush()
		}
	}
	e.flush()
}

func (e *encoder) flush() {
	if len(e.word) == 0 || e.full() {
		e.word = e.word[:0]
		return
	}
	e.ids, e.key = e.t.wp.tokenize(e.word, e.ids, e.key)
	if e.limit >= 0 {
		e.ids = e.ids[:min(len(e.ids), 1+e.limit)] // ids[0] is [CLS]
	}
	e.word = e.word[:0]
	e.words++
}
