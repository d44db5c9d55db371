package stress

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/weaviate/weaviate-go-client/v5/weaviate"
	wvgrpc "github.com/weaviate/weaviate-go-client/v5/weaviate/grpc"
	wvmodels "github.com/weaviate/weaviate/entities/models"

	"github.com/mclip-go/mclip/integration/harness"
	"github.com/mclip-go/mclip/testfixture/testimage"
	"github.com/mclip-go/mclip/vectorizer/itemerror"
)

// hostileCase is one object whose input tries to break the module.
type hostileCase struct {
	name string
	// title and tags are the vectorized texts (tags a text[]); rawTitle,
	// when set, is sent as title's bytes unescaped in the JSON body
	// (invalid UTF-8).
	title    *string
	rawTitle []byte
	tags     []string
	// image is the blob property, as sent.
	image string
	// wantErr: the server must refuse the object with an error containing
	// it. Empty: the object is legitimate and must land with the facade's
	// vector, unless agree is set (corrupt data that a decoder may
	// accept): then the server must do what the facade does.
	wantErr string
	agree   bool
	// weaviateErr: Weaviate itself refuses the object before the module
	// sees it (its blob validation wants plain padded base64); queries
	// still reach the module.
	weaviateErr string
}

// blobRefused is Weaviate's own error for a blob that is not plain base64.
const blobRefused = "not a valid blob base64 string"

func str(s string) *string { return &s }

// hostileCases are the inputs tried against the module.
func hostileCases(t testing.TB) []hostileCase {
	t.Helper()
	cases := []hostileCase{
		{name: "empty object"},
		{name: "empty title", title: str("")},
		{name: "whitespace title", title: str(" \t\u3000\n ")},
		{name: "NUL bytes in text", title: str("a\x00dog\x00\x00in the snow\x00")},
		{name: "invalid UTF-8 in text", rawTitle: []byte("ein Hund \xff\xfe im \xc3\x28 Schnee \xed\xa0\x80")},
		{name: "control and bidi characters", title: str("\u202edog\u202c \u200b\ufeff\u0007 cat \U0001F468\u200d\U0001F469\u200d\U0001F467")},
		{name: "1 MB text", title: str(strings.Repeat("Hund Katze 犬 ", 1_000_000/len("Hund Katze 犬 ")))},
		{name: "text over MCLIP_MAX_TEXT_BYTES", title: str(strings.Repeat("x", 1<<20+1)), wantErr: "MCLIP_MAX_TEXT_BYTES"},
		{name: "10,000-element text[]", tags: manyTags(10_000)},
		{name: "invalid base64", image: "this is not base64!", wantErr: "base64", weaviateErr: blobRefused},
		{name: "base64 of text", image: b64([]byte("hello, I am not an image")), wantErr: "unsupported image format"},
		{name: "svg", image: b64([]byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`)), wantErr: "unsupported image format"},
		{name: "data URI with a text type", image: "data:text/plain;base64," + b64(testimage.GradientPNG(1, 8, 8)), wantErr: "not an image", weaviateErr: blobRefused},
		{name: "data URI without ;base64", image: "data:image/png," + b64(testimage.GradientPNG(1, 8, 8)), wantErr: "base64", weaviateErr: blobRefused},
		{name: "data URI with the right type", image: "data:image/png;base64," + b64(testimage.GradientPNG(2, 20, 10)), weaviateErr: blobRefused},
		{name: "data URI claiming jpeg, holding png", image: "data:image/jpeg;base64," + b64(testimage.GradientPNG(3, 20, 10)), weaviateErr: blobRefused},
		{name: "unpadded base64", image: strings.TrimRight(b64(testimage.GradientPNG(4, 11, 7)), "="), weaviateErr: blobRefused},
		{name: "png 0x0", image: b64(pngWithIHDR(0, 0)), wantErr: "zero-sized"},
		{name: "png 1x1", image: b64(testImage(t, "png_1x1.png"))},
		{name: "png 1x4000", image: b64(testImage(t, "png_1x4000.png"))},
		{name: "png 4000x1", image: b64(testImage(t, "png_4000x1.png"))},
		{name: "jpeg 1x4000", image: b64(testImage(t, "jpeg_1x4000.jpg"))},
		{name: "png bomb 100000x100000", image: b64(pngWithIHDR(100000, 100000)), wantErr: "image too large"},
		{name: "png at the pixel limit, tiny file", image: b64(solidPNG(2048, 2048))},
		{name: "png one row over the pixel limit", image: b64(solidPNG(2048, 2049)), wantErr: "image too large"},
		{name: "animated gif, 3000 frames", image: b64(animatedGIF(3000, 64, 64))},
	}
	formats := []struct{ name, file string }{
		{"jpeg", "jpeg_420.jpg"}, {"jpeg progressive", "jpeg_444_progressive.jpg"}, {"png", "png_rgb8.png"},
		{"gif", "gif_photo.gif"}, {"webp", "webp_333x517.webp"}, {"webp lossless", "webp_lossless.webp"},
		{"bmp", "bmp_rgb.bmp"}, {"tiff", "tiff_rgb_lzw.tif"},
	}
	for _, f := range formats {
		data := testImage(t, f.file)
		cases = append(cases,
			hostileCase{name: f.name + " intact", image: b64(data)},
			hostileCase{name: f.name + " truncated to half", image: b64(data[:len(data)/2]), agree: true},
			hostileCase{name: f.name + " header only", image: b64(data[:min(len(data), 24)]), agree: true},
			hostileCase{name: f.name + " corrupt middle", image: b64(corrupt(data)), agree: true},
		)
	}
	bombs := []struct {
		name string
		data []byte
	}{
		{"jpeg declaring 65000x65000", patchJPEGSize(t, testImage(t, "jpeg_420.jpg"), 65000, 65000)},
		{"gif declaring 60000x60000", patchGIFSize(testImage(t, "gif_photo.gif"), 60000, 60000)},
		{"bmp declaring 50000x50000", patchBMPSize(testImage(t, "bmp_rgb.bmp"), 50000, 50000)},
		{"webp declaring 16000x16000", patchVP8LSize(t, testImage(t, "webp_lossless.webp"), 16000, 16000)},
	}
	for _, b := range bombs {
		cases = append(cases, hostileCase{name: b.name, image: b64(b.data), wantErr: "image too large"})
	}
	return cases
}

func manyTags(n int) []string {
	words := []string{"Hund", "cat", "犬", "собака", "chien", "perro", "كلب", "개"}
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s %d", words[i%len(words)], i)
	}
	return out
}

// expectation is what the facade makes of a case: the object's vector, or
// the first failing input's error.
type expectation struct {
	vector []float32 // nil: the object has nothing to vectorize
	err    error
}

// expect computes the case in process, the module's way: every text and
// non-empty image of the object encoded, their vectors averaged.
func expect(ctx context.Context, m *models, c hostileCase) expectation {
	var texts []string
	texts = append(texts, c.tags...)
	if c.rawTitle != nil {
		texts = append(texts, string(c.rawTitle))
	} else if c.title != nil {
		texts = append(texts, *c.title)
	}
	var vecs [][]float32
	if len(texts) > 0 {
		tv, errs := m.vec.EncodeTexts(ctx, texts)
		if err := errors.Join(errs...); err != nil {
			return expectation{err: err}
		}
		vecs = append(vecs, tv...)
	}
	if c.image != "" {
		iv, errs := m.vec.EncodeImagesBase64(ctx, []string{c.image})
		if errs[0] != nil {
			return expectation{err: errs[0]}
		}
		vecs = append(vecs, iv[0])
	}
	return expectation{vector: harness.Mean(vecs...)}
}

// objectJSON is the object as a JSON body fragment.
func (c hostileCase) objectJSON(t testing.TB, class, id string) []byte {
	t.Helper()
	props := map[string]any{"note": c.name}
	const placeholder = "\u0001RAWTITLE\u0001"
	switch {
	case c.rawTitle != nil:
		props["title"] = placeholder
	case c.title != nil:
		props["title"] = *c.title
	}
	if c.tags != nil {
		props["tags"] = c.tags
	}
	if c.image != "" {
		props["image"] = c.image
	}
	b, err := json.Marshal(map[string]any{"class": class, "id": id, "properties": props})
	require.NoError(t, err)
	if c.rawTitle != nil {
		quoted, err := json.Marshal(placeholder)
		require.NoError(t, err)
		b = bytes.Replace(b, quoted, append(append([]byte{'"'}, c.rawTitle...), '"'), 1)
	}
	return b
}

func hostileClass(name string) map[string]any {
	return map[string]any{
		"class":      name,
		"vectorizer": mclipModule,
		"moduleConfig": map[string]any{mclipModule: map[string]any{
			"textFields": []string{"title", "tags"}, "imageFields": []string{"image"},
		}},
		"properties": []map[string]any{
			{"name": "title", "dataType": []string{"text"}},
			{"name": "tags", "dataType": []string{"text[]"}},
			{"name": "image", "dataType": []string{"blob"}},
			{"name": "note", "dataType": []string{"text"}},
		},
	}
}

// TestHostileInputsWeaviate sends every hostile case to a real
// weaviate-mclip in a batch between two good objects, as a single insert,
// and as a nearText or nearImage query, and checks each answer against the
// facade: the right vector or a clear error, the good neighbours stored
// with their vectors, the server still serving, its memory bounded.
func TestHostileInputsWeaviate(t *testing.T) {
	m, s, _ := shared(t)
	ctx := context.Background()
	s.createClass(t, hostileClass("Hostile"))
	pid := s.pid(t)

	good := hostileCase{name: "good neighbour", title: str("a good object"), tags: []string{"zwei", "Wörter"}, image: b64(testimage.GradientPNG(5, 30, 20))}
	goodWant := expect(ctx, m, good)
	require.NoError(t, goodWant.err)

	// Warm up, then take the memory baseline.
	for i := range 3 {
		_, err := s.batch(ctx, batchBody(t, good.objectJSON(t, "Hostile", uuid.NewString())))
		require.NoError(t, err, "warm-up batch %d", i)
	}
	rssStart := rssMiB(t, pid)
	peak := rssStart

	cases := hostileCases(t)
	var refused, stored int
	statuses := map[int]int{} // single inserts' error statuses
	rounds := 1
	if stressMode() {
		rounds = 10 // memory must stay bounded over repeated bombs
	}
	for round := range rounds * len(cases) {
		c := cases[round%len(cases)]
		t.Run(c.name, func(t *testing.T) {
			want := expect(ctx, m, c)
			if c.wantErr != "" {
				require.Error(t, want.err, "the facade accepts what the server must refuse")
				require.Contains(t, want.err.Error(), c.wantErr)
			} else if !c.agree {
				require.NoError(t, want.err, "a legitimate input fails in process")
			}
			check := func(t *testing.T, id, errText string) {
				t.Helper()
				vec, found, err := s.object(ctx, "Hostile", id, "")
				require.NoError(t, err)
				if c.weaviateErr != "" {
					assert.Contains(t, errText, c.weaviateErr)
					assert.False(t, found, "a refused object was stored")
					return
				}
				if want.err != nil {
					assert.NotEmpty(t, errText, "accepted; the facade says: %v", want.err)
					assert.Contains(t, errText, mclipModule)
					assert.Contains(t, errText, itemerror.Cause(want.err).Error())
					assert.False(t, found, "a refused object was stored")
					return
				}
				require.Empty(t, errText)
				require.True(t, found, "the object is missing")
				if want.vector == nil {
					assert.Empty(t, vec)
					return
				}
				assert.LessOrEqual(t, vectorDiff(want.vector, vec), vectorTolerance, "stored vector")
			}

			// Batch: good, hostile, good.
			ids := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
			errs, err := s.batch(ctx, batchBody(t,
				good.objectJSON(t, "Hostile", ids[0]), c.objectJSON(t, "Hostile", ids[1]), good.objectJSON(t, "Hostile", ids[2])))
			require.NoError(t, err)
			require.Len(t, errs, 3)
			for _, id := range []string{ids[0], ids[2]} {
				require.Empty(t, errs[id], "a good neighbour failed")
				vec, found, err := s.object(ctx, "Hostile", id, "")
				require.NoError(t, err)
				require.True(t, found, "a good neighbour was lost")
				assert.LessOrEqual(t, vectorDiff(goodWant.vector, vec), vectorTolerance, "good neighbour's vector")
			}
			t.Logf("batch: %q", clip([]byte(errs[ids[1]])))
			check(t, ids[1], errs[ids[1]])

			// Single insert.
			id := uuid.NewString()
			status, body, err := s.do(ctx, "POST", "/v1/objects", c.objectJSON(t, "Hostile", id))
			require.NoError(t, err)
			errText := ""
			if status != http.StatusOK {
				errText = restError(body)
				statuses[status]++
			}
			t.Logf("single: %d %q", status, clip([]byte(errText)))
			check(t, id, errText)

			// Query with the same input.
			var q string
			switch {
			case c.image != "":
				q = fmt.Sprintf(`{Get{Hostile(nearImage:{image:%s}, limit: 2){note}}}`, gqlString(c.image))
			case c.title != nil && len(*c.title) < 1<<16:
				q = fmt.Sprintf(`{Get{Hostile(nearText:{concepts:[%s]}, limit: 2){note}}}`, gqlString(*c.title))
			}
			if q != "" {
				data, gqlErrs, err := s.graphQL(ctx, q)
				require.NoError(t, err)
				if want.err != nil {
					require.NotEmpty(t, gqlErrs, "query accepted: %s", clip(data))
					assert.Contains(t, strings.Join(gqlErrs, "; "), itemerror.Cause(want.err).Error())
				} else if strings.TrimSpace(*orEmpty(c.title)) != "" || c.image != "" {
					assert.Empty(t, gqlErrs)
					assert.Contains(t, string(data), "note")
				}
			}
			if want.err != nil {
				refused++
			} else {
				stored++
			}
			require.True(t, s.ready(), "the server stopped serving")
			peak = max(peak, rssMiB(t, pid))
		})
	}

	// Still serving: a follow-up query answers, and the good objects are
	// found by their vector.
	data, gqlErrs, err := s.graphQL(ctx, `{Get{Hostile(nearText:{concepts:["a good object"]}, limit: 1){note}}}`)
	require.NoError(t, err)
	require.Empty(t, gqlErrs)
	require.Contains(t, string(data), "note")
	vecJSON, err := json.Marshal(goodWant.vector)
	require.NoError(t, err)
	data, gqlErrs, err = s.graphQL(ctx, fmt.Sprintf(`{Get{Hostile(nearVector:{vector:%s}, limit: 1){note _additional{distance}}}}`, vecJSON))
	require.NoError(t, err)
	require.Empty(t, gqlErrs)
	assert.Contains(t, string(data), good.name)
	rssEnd := rssMiB(t, pid)
	t.Logf("%d hostile inputs, %d times: %d refused with an error, %d stored with the facade's vector; server RSS %.0f MiB at start, %.0f MiB peak, %.0f MiB at end",
		len(cases), rounds, refused, stored, rssStart, peak, rssEnd)
	t.Logf("statuses of refused single inserts: %v", statuses)
	// The largest legitimate input decodes to 2048x2048 RGB (12 MiB); the
	// bound leaves room for Go's heap growth, never for a decoded bomb
	// (100000x100000 would be 28 GiB).
	assert.Less(t, rssEnd-rssStart, 768.0, "server RSS grew")
	assert.Less(t, peak-rssStart, 1024.0, "server RSS peaked")
}

// gqlString is s as a GraphQL string literal (JSON's escapes are
// GraphQL's).
func gqlString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// restError joins the messages of a REST error body.
func restError(body []byte) string {
	var e struct {
		Error []struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || len(e.Error) == 0 {
		return string(body)
	}
	var msgs []string
	for _, m := range e.Error {
		msgs = append(msgs, m.Message)
	}
	return strings.Join(msgs, "; ")
}

func orEmpty(s *string) *string {
	if s == nil {
		return str("")
	}
	return s
}

// batchBody is POST /v1/batch/objects' body of the objects' JSON.
func batchBody(t testing.TB, objects ...[]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(`{"objects":[`)
	b.Write(bytes.Join(objects, []byte(",")))
	b.WriteString(`]}`)
	return b.Bytes()
}

// image forgers

func pngChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	_ = binary.Write(&b, binary.BigEndian, crc.Sum32())
	return b.Bytes()
}

// pngWithIHDR is a PNG header declaring w x h RGB pixels and no data.
func pngWithIHDR(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(out, pngChunk("IEND", nil)...)
}

// solidPNG is a w x h black grayscale PNG: a few KiB that decode to w*h
// pixels.
func solidPNG(w, h int) []byte {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// animatedGIF has n frames of w x h.
func animatedGIF(n, w, h int) []byte {
	g := &gif.GIF{}
	for i := range n {
		img := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
		for j := range img.Pix {
			img.Pix[j] = uint8((i + j/w) % 256)
		}
		img.Set(i%w, 0, color.White)
		g.Image = append(g.Image, img)
		g.Delay = append(g.Delay, 1)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// corrupt flips bytes in the middle third of data.
func corrupt(data []byte) []byte {
	out := bytes.Clone(data)
	for i := len(out) / 3; i < 2*len(out)/3; i += 7 {
		out[i] ^= 0x5a
	}
	return out
}

func patchJPEGSize(t testing.TB, data []byte, w, h uint16) []byte {
	t.Helper()
	out := bytes.Clone(data)
	for i := 2; i+9 < len(out); {
		require.Equal(t, byte(0xFF), out[i], "jpeg marker at %d", i)
		marker := out[i+1]
		n := int(binary.BigEndian.Uint16(out[i+2:]))
		if marker >= 0xC0 && marker <= 0xC2 {
			binary.BigEndian.PutUint16(out[i+5:], h)
			binary.BigEndian.PutUint16(out[i+7:], w)
			return out
		}
		i += 2 + n
	}
	t.Fatal("no SOF marker")
	return nil
}

func patchGIFSize(data []byte, w, h uint16) []byte {
	out := bytes.Clone(data)
	binary.LittleEndian.PutUint16(out[6:], w)
	binary.LittleEndian.PutUint16(out[8:], h)
	return out
}

func patchBMPSize(data []byte, w, h int32) []byte {
	out := bytes.Clone(data)
	binary.LittleEndian.PutUint32(out[18:], uint32(w))
	binary.LittleEndian.PutUint32(out[22:], uint32(h))
	return out
}

// patchVP8LSize rewrites a lossless WebP's 14-bit width-1 and height-1.
func patchVP8LSize(t testing.TB, data []byte, w, h uint32) []byte {
	t.Helper()
	out := bytes.Clone(data)
	require.Equal(t, "VP8L", string(out[12:16]), "not a simple lossless WebP")
	bits := binary.LittleEndian.Uint32(out[21:])
	bits &^= 1<<28 - 1
	bits |= (w - 1) | (h-1)<<14
	binary.LittleEndian.PutUint32(out[21:], bits)
	return out
}

// TestHostileBatchGRPC sends every hostile case that gRPC can carry (valid
// UTF-8, blobs Weaviate accepts) in one gRPC batch through the official
// client, each between two good objects: each object gets its own error
// or its own right vector, and every good one lands.
func TestHostileBatchGRPC(t *testing.T) {
	m, s, _ := shared(t)
	ctx := context.Background()
	s.createClass(t, hostileClass("HostileGRPC"))
	client, err := weaviate.NewClient(weaviate.Config{
		Host: s.HTTPHost(), Scheme: "http",
		GrpcConfig: &wvgrpc.Config{Host: s.GRPCHost()},
		Timeout:    5 * time.Minute,
	})
	require.NoError(t, err)

	good := hostileCase{name: "good neighbour", title: str("a good object"), image: b64(testimage.GradientPNG(6, 24, 24))}
	goodWant := expect(ctx, m, good)
	require.NoError(t, goodWant.err)
	props := func(c hostileCase) map[string]any {
		p := map[string]any{"note": c.name}
		if c.title != nil {
			p["title"] = *c.title
		}
		if c.tags != nil {
			p["tags"] = c.tags
		}
		if c.image != "" {
			p["image"] = c.image
		}
		return p
	}
	type sent struct {
		c    hostileCase
		want expectation
	}
	byID := map[string]sent{}
	var objs []*wvmodels.Object
	add := func(c hostileCase, want expectation) {
		id := uuid.NewString()
		byID[id] = sent{c, want}
		objs = append(objs, &wvmodels.Object{Class: "HostileGRPC", ID: strfmt.UUID(id), Properties: props(c)})
	}
	for _, c := range hostileCases(t) {
		if c.rawTitle != nil || c.weaviateErr != "" {
			continue
		}
		add(good, goodWant)
		add(c, expect(ctx, m, c))
	}
	add(good, goodWant)

	resp, err := client.Batch().ObjectsBatcher().WithObjects(objs...).Do(ctx)
	require.NoError(t, err)
	require.Len(t, resp, len(objs))
	errText := map[string]string{}
	for _, r := range resp {
		var msgs []string
		if r.Result != nil && r.Result.Errors != nil {
			for _, e := range r.Result.Errors.Error {
				msgs = append(msgs, e.Message)
			}
		}
		errText[string(r.ID)] = strings.Join(msgs, "; ")
	}
	stored := s.allVectors(t, "HostileGRPC")
	var refused, landed int
	for id, o := range byID {
		got, found := stored[id]
		if o.want.err != nil {
			assert.Contains(t, errText[id], itemerror.Cause(o.want.err).Error(), o.c.name)
			assert.False(t, found, "%s: refused but stored", o.c.name)
			refused++
			continue
		}
		assert.Empty(t, errText[id], o.c.name)
		require.True(t, found, "%s: lost", o.c.name)
		if o.want.vector == nil {
			assert.Empty(t, got, o.c.name)
		} else {
			assert.LessOrEqual(t, vectorDiff(o.want.vector, got), vectorTolerance, o.c.name)
		}
		landed++
	}
	t.Logf("one gRPC batch of %d objects: %d refused with their own error, %d stored with their own vector", len(objs), refused, landed)
	require.True(t, s.ready())
}
