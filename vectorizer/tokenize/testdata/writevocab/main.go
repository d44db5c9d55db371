// Command writevocab writes a synthetic tokenizer.json to stdout:
// -type wordpiece (default) of size -n (default vocab.Full), or -type clip
// (default size vocab.CLIPFull); testdata/regen.sh feeds them to the
// reference tokenizer.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/mclip-go/mclip/modelgen/vocab"
)

func main() {
	kind := flag.String("type", "wordpiece", "wordpiece or clip")
	n := flag.Int("n", 0, "vocabulary size (0: the real model's)")
	flag.Parse()
	var err error
	switch *kind {
	case "wordpiece":
		err = vocab.WriteTokenizerJSON(os.Stdout, orDefault(*n, vocab.Full))
	case "clip":
		err = vocab.WriteCLIPTokenizerJSON(os.Stdout, orDefault(*n, vocab.CLIPFull))
	default:
		err = fmt.Errorf("unknown -type %q, want wordpiece or clip", *kind)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "writevocab:", err)
		os.Exit(1)
	}
}

func orDefault(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}
