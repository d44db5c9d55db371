package bench

import (
	"fmt"
	"strings"

	"github.com/mclip-go/mclip/vectorizer/text"
)

// words are drawn from to build benchmark sentences: several languages and
// scripts, as the model's users write.
var words = strings.Fields(`a dog swimming in the water der Hund schwimmt im Wasser le chat dort dans la
maison el perro come en la casa собака плавает в воде ο σκύλος κολυμπά στο νερό photo of a red car
parked near the old bridge at sunset 狗在水里游泳 犬が水の中で泳いでいる 개가 물에서 수영한다 una playa con
palmeras und blauem Himmel children playing football in the park while their parents watch`)

// textLength is one benchmark text length.
type textLength struct {
	Name   string
	Tokens int // target tokens per sentence, [CLS] and [SEP] included
}

var textLengths = []textLength{{"short", 12}, {"medium", 40}, {"long", 128}}

// sentences returns n distinct sentences of about target tokens each (as
// the preparer counts them) and their mean token count.
func sentences(p *text.Preparer, n, target int) ([]string, float64, error) {
	out := make([]string, n)
	total := 0
	for i := range out {
		var b strings.Builder
		k := i * 7
		for {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[k%len(words)])
			k++
			ids, err := p.Tokenize(b.String())
			if err != nil {
				return nil, 0, fmt.Errorf("tokenize benchmark text: %w", err)
			}
			if len(ids) >= target || b.Len() > 4096 {
				out[i] = b.String()
				total += len(ids)
				break
			}
		}
	}
	return out, float64(total) / float64(n), nil
}
