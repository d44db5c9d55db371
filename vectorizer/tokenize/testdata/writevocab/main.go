// Command writevocab writes the synthetic tokenizer.json of the given size
// (default vocab.Full) to stdout; testdata/regen.sh feeds it to the
// reference tokenizer.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/mclip-go/mclip/modelgen/vocab"
)

func main() {
	n := flag.Int("n", vocab.Full, "vocabulary size")
	flag.Parse()
	if err := vocab.WriteTokenizerJSON(os.Stdout, *n); err != nil {
		fmt.Fprintln(os.Stderr, "writevocab:", err)
		os.Exit(1)
	}
}
