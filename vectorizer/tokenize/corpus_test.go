package tokenize

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus.jsonl from buildCorpus")

const corpusPath = "testdata/corpus.jsonl"

// sentences holds one or two sentences in each of 60 languages.
var sentences = []struct{ lang, text string }{
	{"en", "The quick brown fox jumps over the lazy dog. A photo of a dog playing in the water!"},
	{"de", "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich. Ein Bild von einem Hund."},
	{"fr", "Portez ce vieux whisky au juge blond qui fume. Une photo d'un chat sur la maison, s'il vous plaît."},
	{"es", "El veloz murciélago hindú comía feliz cardillo y kiwi. ¿Dónde está el perro? ¡Mañana!"},
	{"pt", "Luís argüia à Júlia que «brações, fé, chá, óxido, pôr, zângão» eram palavras do português."},
	{"it", "Quel vituperabile xenofobo zelante assaggia il whisky ed esclama: alleluja! Il cane è in città."},
	{"nl", "Pa's wijze lynx bezag vroom het fikse aquaduct. Een afbeelding van een hond."},
	{"sv", "Flygande bäckasiner söka hwila på mjuka tuvor. En bild på en katt."},
	{"da", "Høj bly gom vandt fræk sexquiz på wc. Et billede af en hund."},
	{"no", "Vår sære Zulu fra badeøya spilte jo whist og quickstep i min taxi."},
	{"fi", "Törkylempijävongahdus. Kuva koirasta, joka leikkii vedessä."},
	{"et", "Põdur Zagrebi tšellomängija-följetonist Ciqo külmetas kehvas garaažis."},
	{"hu", "Árvíztűrő tükörfúrógép. Egy kép a kutyáról, amely a vízben játszik."},
	{"pl", "Zażółć gęślą jaźń. Pchnąć w tę łódź jeża lub ośm skrzyń fig."},
	{"cs", "Příliš žluťoučký kůň úpěl ďábelské ódy. Obrázek psa ve vodě."},
	{"sk", "Kŕdeľ šťastných ďatľov učí pri ústí Váhu mĺkveho koňa obhrýzať kôru."},
	{"sl", "Šerif bo za vajo spet kuhal domače žgance."},
	{"hr", "Gojazni đačić s biciklom drži hmelj i finu vatu u džepu nošnje."},
	{"sr-Latn", "Ljubazni fenjerdžija čađavog lica hoće da mi pokaže štos."},
	{"ro", "Înjurând pițigăiat, zoofobul comandă vexat whisky și tequila."},
	{"tr", "Pijamalı hasta yağız şoföre çabucak güvendi. İstanbul'da bir köpek fotoğrafı."},
	{"az", "Zəfər, jaketini də papağını da götür, bu axşam hava çox soyuq olacaq."},
	{"lv", "Glāžšķūņa rūķīši dzērumā čiepj Baha koncertflīģeļu vākus."},
	{"lt", "Įlinkdama fechtuotojo špaga sublykčiojusi pragręžė apvalų arbūzą."},
	{"sq", "Unë mund të ha qelq dhe nuk më gjen gjë. Një fotografi e një qeni."},
	{"vi", "Tôi có thể ăn thủy tinh mà không hại gì. Hình ảnh một con chó đang chơi."},
	{"id", "Saya dapat makan kaca dan itu tidak menyakitkan saya. Gambar seekor anjing."},
	{"ms", "Saya boleh makan kaca dan ia tidak mencederakan saya."},
	{"tl", "Kaya kong kumain nang bubog at hindi ako masaktan. Larawan ng aso."},
	{"sw", "Naweza kula bilauri na sikunyui. Picha ya mbwa anayecheza majini."},
	{"el", "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. Μια φωτογραφία ενός σκύλου στο νερό."},
	{"ru", "Съешь же ещё этих мягких французских булок, да выпей чаю. Фото собаки в воде."},
	{"uk", "Чуєш їх, доцю, га? Кумедна ж ти, прощайся без ґольфів! Фото собаки."},
	{"bg", "Жълтата дюля беше щастлива, че пухът, който цъфна, замръзна като гьон."},
	{"sr", "Фијуче ветар у шибљу, леди пасаже и куће иза њих и гунђа у оџацима."},
	{"mk", "Ѕидарски пејзаж: шугав билмез со чудење џвака ќофте и кељ на туѓ цех."},
	{"kk", "Қазақстан — Орталық Азиядағы мемлекет. Иттің суреті."},
	{"mn", "Би шил идэй чадна, надад хортой биш. Нохойн зураг."},
	{"hy", "Կրնամ ապակի ուտել և ինծի անհանգիստ չըներ։ Շան նկար։"},
	{"ka", "მინას ვჭამ და არა მტკივა. ძაღლის სურათი წყალში."},
	{"he", "דג סקרן שט בים מאוכזב ולפתע מצא חברה. תמונה של כלב."},
	{"yi", "איך קען עסן גלאָז און עס טוט מיר נישט װײ."},
	{"ar", "نص حكيم له سر قاطع وذو شأن عظيم مكتوب على ثوب أخضر ومغلف بجلد أزرق. صورة كلب."},
	{"fa", "«الا یا اَیُّها السّاقی! اَدِرْ کَأساً و ناوِلها!» که عشق آسان نمود اول، ولی افتاد مشکل\u200cها!"},
	{"ur", "میں کانچ کھا سکتا ہوں اور مجھے تکلیف نہیں ہوتی ۔ کتے کی تصویر۔"},
	{"hi", "मैं काँच खा सकता हूँ और मुझे उससे कोई चोट नहीं पहुंचती। पानी में खेलते कुत्ते की तस्वीर।"},
	{"mr", "मी काच खाऊ शकतो, मला ते दुखत नाही. पाण्यात खेळणाऱ्या कुत्र्याचे चित्र."},
	{"ne", "म काँच खान सक्छू र मलाई केहि नी हुन्\u200dन् ।"},
	{"gu", "હું કાચ ખાઇ શકું છું અને તેનાથી મને દર્દ નથી થતું. પાણીમાં રમતા કૂતરાનો ફોટો."},
	{"bn", "আমি কাঁচ খেতে পারি, তাতে আমার কোনো ক্ষতি হয় না। জলে খেলা কুকুরের ছবি।"},
	{"ta", "நான் கண்ணாடி சாப்பிடுவேன், அதனால் எனக்கு ஒரு கேடும் வராது."},
	{"te", "నేను గాజు తినగలను మరియు అలా చేసినా నాకు ఏమి ఇబ్బంది లేదు"},
	{"th", "ฉันกินกระจกได้ แต่มันไม่ทำให้ฉันเจ็บ ภาพสุนัขเล่นน้ำ"},
	{"my", "ကျွန်တော် ကျွန်မ မှန်စားနိုင်တယ်။ ၎င်းကြောင့် ထိခိုက်မှုမရှိပါ။"},
	{"km", "ខ្ញុំអាចញុំកញ្ចក់បាន ដោយគ្មានបញ្ហារ"},
	{"ko", "나는 유리를 먹을 수 있어요. 그래도 아프지 않아요. 물에서 노는 개의 사진."},
	{"ja", "私はガラスを食べられます。それは私を傷つけません。水で遊ぶ犬の写真。"},
	{"zh", "我能吞下玻璃而不伤身体。一张狗在水里玩的照片。"},
	{"zh-Hant", "我能吞下玻璃而不傷身體。一張狗在水裡玩的照片。"},
	{"am", "ብርጭቆ መብላት እችላለሁ፣ አይጎዳኝም። የውሻ ፎቶ።"},
	{"si", "මට වීදුරු කෑමට හැකියි. එයින් මට කිසි හානියක් සිදු නොවේ."},
	{"bo", "ཤེལ་སྒོ་ཟ་ནས་ང་ན་གི་མ་རེད།"},
	{"eu", "Kristala jan dezaket, ez dit minik ematen. Txakur baten argazkia."},
	{"ca", "Puc menjar vidre, que no em fa mal. L'àvia d'en Joan és a la plaça."},
	{"gl", "Eu podo xantar cristais e non cortarme."},
	{"cy", "Dw i'n gallu bwyta gwydr, 'dyw e ddim yn gwneud dolur i mi."},
	{"ga", "Is féidir liom gloinne a ithe. Ní dhéanann sí dochar ar bith dom."},
	{"is", "Kæmi ný öxi hér, ykist þjófum nú bæði víl og ádrepa."},
	{"af", "Ek kan glas eet, maar dit doen my nie skade nie."},
	{"eo", "Eĥoŝanĝo ĉiuĵaŭde. Mi povas manĝi vitron, ĝi ne damaĝas min."},
}

// whitespaces are all characters BERT treats as space.
var whitespaces = []rune{' ', '\t', '\n', '\r', 0xA0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
	0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000}

// removed are characters BERT's clean_text drops: C0/C1 controls (also
// \v, \f and U+0085, which are whitespace elsewhere), format characters,
// private use, U+FFFD.
var removed = []rune{0, 1, 7, 8, 0x0B, 0x0C, 0x1B, 0x1C, 0x1F, 0x7F, 0x80, 0x85, 0x9F, 0xAD, 0x600, 0x61C,
	0x6DD, 0x70F, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202E, 0x2060, 0x2061, 0x2064,
	0x2066, 0x2069, 0xFEFF, 0xFFF9, 0xFFFB, 0xFFFD, 0x110BD, 0x1D173, 0xE0001, 0xE0041, 0xE007F,
	0xE000, 0xF8FF, 0xF0000, 0xFFFFD, 0x100000, 0x10FFFD}

// edges are the borders of HF's CJK ranges and neighbouring blocks.
var edges = []rune{0x33FF, 0x3400, 0x4DBF, 0x4DC0, 0x4DFF, 0x4E00, 0x9FFF, 0xA000, 0xF8FF, 0xF900, 0xFAFF,
	0xFB00, 0x1FFFF, 0x20000, 0x2A6DF, 0x2A6E0, 0x2A6FF, 0x2A700, 0x2B73F, 0x2B740, 0x2B81F, 0x2B820,
	0x2B821, 0x2B8B8, 0x2B91E, 0x2B91F, 0x2B920, 0x2CEAF, 0x2CEB0, 0x2EBE0, 0x2F7FF, 0x2F800, 0x2FA1F,
	0x2FA20, 0x30000, 0x31350, 0x3000, 0x3001, 0x3041, 0x30A1, 0xAC00, 0xD7A3, 0xFF01, 0xFF21}

// prng is a fixed xorshift generator: the corpus does not depend on
// anything outside this file.
type prng uint64

func (p *prng) next() uint64 {
	*p ^= *p << 13
	*p ^= *p >> 7
	*p ^= *p << 17
	return uint64(*p)
}

func (p *prng) intn(n int) int { return int(p.next() % uint64(n)) }

// buildCorpus returns the differential test corpus. Entries may hold
// invalid UTF-8.
func buildCorpus() []string {
	var c []string
	add := func(s ...string) { c = append(c, s...) }
	add("", " ", "\t\n\r ", "\x00", "\uFEFF", "\u2060", "\uFFFD", "a", "[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]")
	for _, s := range sentences {
		add(s.text)
	}
	// Every whitespace between words, singly and in runs, and leading/trailing.
	for i, ws := range whitespaces {
		s := sentences[i%len(sentences)].text
		add(strings.ReplaceAll(s, " ", string(ws)))
		add(string(ws) + "a" + string(ws) + string(ws) + "b" + string(ws))
		add("x" + string(ws) + "y")
	}
	// Every removed character: glued inside a word, at the start, alone,
	// between words and next to specials.
	for i, r := range removed {
		s := sentences[(i*7)%len(sentences)].text
		add(string(r) + s)
		add("wa" + string(r) + "ter")
		add(string(r))
		add(strings.Replace(s, " ", " "+string(r), 2))
		add("[CLS" + string(r) + "]" + string(r) + "[SEP]")
	}
	// Leading BOM / U+2060 in front of every language.
	for i, s := range sentences {
		lead := "\uFEFF"
		if i%2 == 1 {
			lead = "\u2060"
		}
		add(lead + s.text)
	}
	add("\uFEFF\uFEFFab cd", "\u2060\uFEFF\u200B", "ab\uFEFF", "a \uFEFF b")
	// CJK range edges, glued between letters and alone.
	for _, r := range edges {
		add("ab"+string(r)+"cd", string(r), "水"+string(r)+"水", string(r)+string(r)+" "+string(r))
	}
	// Combining marks.
	add("e\u0301te\u0301", "cafe\u0301 na\u0308ive", "Z\u0351\u0352\u0357a\u0300\u0301\u0302l\u0303g\u0304o\u0305",
		"\u0301\u0302 alone", "a\u20DD", "ก\u0E31\u0E48", "क\u094D\u200Dष", "Ä Ä", "ﬁ ﬂ ｆｕｌｌ", "Å Å Å",
		"한국어 한국어", "\u1100\u1161\u11A8", "נְקֻדּוֹת", "عَرَبِيٌّ")
	// Emoji and symbols.
	add("👍 😀😂 🐶🐱", "👨\u200D👩\u200D👧\u200D👦 family", "👍🏽 ok", "🇩🇪🇫🇷 flags", "1\uFE0F\u20E3 keycap",
		"❤\uFE0F love", "🏳\uFE0F\u200D🌈", "🦄 🥰 🫠", "☺ ★ ♥ ✓ → ∞ € ₹", "a😀b", "x🏽y")
	// Literal special tokens.
	for _, tmpl := range []string{"%s", "foo%sbar", "%s%s", "[%s]", "%s.", " %s ", "a %s b", "x%s%sy"} {
		for _, sp := range []string{"[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]", "[cls]", "[Sep]", "[MASK", "CLS]", "[ CLS ]", "[[SEP]]", "[unused1]"} {
			add(strings.ReplaceAll(tmpl, "%s", sp))
		}
	}
	add("[CLS][SEP][MASK][PAD][UNK]", "x[SEP]y[CLS]z", "[SEP] a [CLS] b [MASK]", "Dies ist [MASK]. [SEP] Zweiter [CLS] Satz", "Paris is the [MASK] of France.", "[MASK]ed", "un[MASK]", "[SEP]]", "[[CLS]",
		"[CL[CLS]S]", "[MASK][MASK]", "[ＣＬＳ]", "【CLS】", "\uFEFF[CLS]", "[\u200BCLS]", "[CLS\xff]", "\xff[SEP]")
	// Invalid UTF-8.
	add("\xff", "a\xffb", "caf\xc3", "\xc3\x28", "\xed\xa0\x80 surrogate", "\xf4\x90\x80\x80 too big", "\xc0\xaf overlong",
		"\xe2\x82 cut", "ok\x80\x80\x80ok", "文字\xe6\x96化")
	// Word length around max_input_chars_per_word (counted in characters).
	for _, n := range []int{98, 99, 100, 101, 102, 150, 300} {
		add(strings.Repeat("a", n), strings.Repeat("é", n), "x "+strings.Repeat("ab", n/2)+" y", strings.Repeat("水", n))
		add(strings.Repeat("a", n-1) + "\u200B" + "a")
	}
	// Punctuation classes: ASCII, Unicode P* categories, symbols, and the
	// code points whose category changed after Unicode 8.0.
	for _, r := range "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~¡¿«»‹›“”„‘’‚–—‐…·•¶§†‡‰′″※‼⁇⁉、。「」『』【】〈〉《》，．！？：；（）＿－～｡･¨´¸˜˙¯°±×÷¬¦©®™℃№∑√∞≈≠≤≥◆★☆♪€£¥₩₽₹¢฿₿٪،؛؟۔।॥።፣჻՝՞։׃״⸮⸰⸱⸺⸻\u2E43\u2E44\u2E4F\u2E52\u2E5D\u061D\u09FD\u0A76\u0C77\u0C84\u1B7D\u166D\U000111C9\U00011C41\U00016E97\u0890\u08E2\U000110CD\U00013430\U0001343F" {
		add("a"+string(r)+"b", "x "+string(r)+" y"+string(r)+string(r))
	}
	// Every code point of the low planes and of interesting blocks, 40 per
	// string, each between two letters: the tokens show the class of each.
	blocks := [][2]rune{{0, 0x3100}, {0xA000, 0xA100}, {0xFB00, 0xFB50}, {0xFE00, 0xFFFF},
		{0x10E80, 0x10F90}, {0x11000, 0x11250}, {0x11C40, 0x11C80}, {0x13420, 0x13450}, {0x16E80, 0x16EA0},
		{0x1F300, 0x1F320}, {0x1F900, 0x1F920}, {0xE0000, 0xE0080}}
	for _, b := range blocks {
		for lo := b[0]; lo < b[1]; lo += 40 {
			var sb strings.Builder
			for r := lo; r < min(lo+40, b[1]); r++ {
				if r >= 0xD800 && r <= 0xDFFF {
					continue
				}
				sb.WriteString("a" + string(r) + "b ")
			}
			add(sb.String())
		}
	}
	// Long texts: several languages joined, far beyond 128 tokens.
	for i := 0; i < len(sentences); i += 3 {
		var parts []string
		for k := 0; k < 8; k++ {
			parts = append(parts, sentences[(i+k*5)%len(sentences)].text)
		}
		add(strings.Join(parts, " "))
	}
	add(strings.Repeat("[SEP] ", 200), strings.Repeat("a ", 127), strings.Repeat("a ", 126), strings.Repeat("水", 126), strings.Repeat("水", 127))
	// Random strings from a pool mixing all classes.
	var pool []rune
	for _, s := range sentences {
		pool = append(pool, []rune(s.text)...)
	}
	pool = append(pool, whitespaces...)
	pool = append(pool, removed...)
	pool = append(pool, edges...)
	pool = append(pool, []rune("[CLS][SEP][MASK]!?.,;:()‐\u0301\u200D👍🏽")...)
	rng := prng(0x6d636c6970)
	for i := 0; i < 700; i++ {
		n := 1 + rng.intn(60)
		var sb strings.Builder
		for k := 0; k < n; k++ {
			switch rng.intn(20) {
			case 0:
				sb.WriteString([]string{"[CLS]", "[SEP]", "[MASK]", "[PAD]"}[rng.intn(4)])
			case 1:
				sb.WriteRune(rune(rng.intn(0x110000)))
			case 2:
				sb.WriteByte(byte(0x80 + rng.intn(0x80)))
			default:
				sb.WriteRune(pool[rng.intn(len(pool))])
			}
		}
		add(sb.String())
	}
	return c
}

// corpusLine is one line of corpus.jsonl: text, or base64 bytes when the
// entry is not valid UTF-8 (JSON cannot hold it).
type corpusLine struct {
	Text  *string `json:"text,omitempty"`
	Bytes string  `json:"bytes,omitempty"`
}

func encodeCorpus(entries []string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, s := range entries {
		var l corpusLine
		if utf8.ValidString(s) {
			l.Text = &s
		} else {
			l.Bytes = base64.StdEncoding.EncodeToString([]byte(s))
		}
		if err := enc.Encode(l); err != nil {
			panic(err)
		}
	}
	return buf.Bytes()
}

func readCorpus(t testing.TB) []string { return readCorpusFile(t, corpusPath) }

func readCorpusFile(t testing.TB, path string) []string {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var l corpusLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
		switch {
		case l.Text != nil:
			out = append(out, *l.Text)
		default:
			b, err := base64.StdEncoding.DecodeString(l.Bytes)
			require.NoError(t, err)
			out = append(out, string(b))
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// TestCorpusUpToDate checks the committed corpus is what buildCorpus
// makes; go test -run TestCorpusUpToDate -update rewrites it.
func TestCorpusUpToDate(t *testing.T) {
	want := encodeCorpus(buildCorpus())
	if *update {
		require.NoError(t, os.WriteFile(corpusPath, want, 0o644))
	}
	got, err := os.ReadFile(corpusPath)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "%s is stale: run testdata/regen.sh", corpusPath)
	c := buildCorpus()
	require.GreaterOrEqual(t, len(c), 2000)
	require.GreaterOrEqual(t, len(sentences), 50)
	langs := map[string]bool{}
	for _, s := range sentences {
		langs[s.lang] = true
	}
	require.Len(t, langs, len(sentences), "duplicate language")
	t.Logf("corpus: %d strings, %d languages", len(c), len(langs))
}
