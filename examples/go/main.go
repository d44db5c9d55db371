// Command example uses mclip through Weaviate's official Go client
// (github.com/weaviate/weaviate-go-client/v5), both ways of running:
//
//	go run ./examples/go -mode mclip [-image photo.jpg]  # multi2vec-mclip in weaviate-mclip (`make run`)
//	go run ./examples/go -mode clip  [-image photo.jpg]  # multi2vec-clip in stock Weaviate with
//	                                                      # CLIP_INFERENCE_API=http://127.0.0.1:8077 (`mclip serve`)
//
// -host and -grpc-host say where Weaviate listens (default localhost:8080
// and localhost:50051). The only difference between the two ways is the
// module's name in the collection's settings.
package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/go-openapi/strfmt"
	"github.com/google/uuid"
	"github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
	wvgrpc "github.com/weaviate/weaviate-go-client/v5/weaviate/grpc"
	"github.com/weaviate/weaviate/entities/models"
)

func main() {
	mode := flag.String("mode", "mclip", "mclip: a multi2vec-mclip collection (weaviate-mclip); clip: a multi2vec-clip collection (stock Weaviate + mclip serve)")
	host := flag.String("host", "localhost:8080", "Weaviate's REST host:port")
	grpcHost := flag.String("grpc-host", "localhost:50051", "Weaviate's gRPC host:port")
	imagePath := flag.String("image", "", "an image (JPEG, PNG, WebP, ...) to import and search with")
	flag.Parse()
	if err := run(context.Background(), *mode, *host, *grpcHost, *imagePath); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, mode, host, grpcHost, imagePath string) error {
	module := map[string]string{"mclip": "multi2vec-mclip", "clip": "multi2vec-clip"}[mode]
	if module == "" {
		return fmt.Errorf("-mode %q: want mclip or clip", mode)
	}
	client, err := weaviate.NewClient(weaviate.Config{Host: host, Scheme: "http", GrpcConfig: &wvgrpc.Config{Host: grpcHost}})
	if err != nil {
		return err
	}
	class := "ExampleMclipGo"
	if mode == "clip" {
		class = "ExampleClipGo"
	}

	// The collection: the same settings as multi2vec-clip, under the module's name.
	if err := client.Schema().ClassDeleter().WithClassName(class).Do(ctx); err != nil {
		return fmt.Errorf("delete %s: %w", class, err)
	}
	err = client.Schema().ClassCreator().WithClass(&models.Class{
		Class:      class,
		Vectorizer: module,
		ModuleConfig: map[string]any{module: map[string]any{
			"textFields":  []string{"text"},
			"imageFields": []string{"image"},
		}},
		Properties: []*models.Property{
			{Name: "text", DataType: []string{"text"}},
			{Name: "image", DataType: []string{"blob"}},
		},
	}).Do(ctx)
	if err != nil {
		return fmt.Errorf("create %s: %w", class, err)
	}

	// Import: texts in any of the model's languages, and an image as base64.
	objects := []*models.Object{
		{Class: class, Properties: map[string]any{"text": "ein Hund spielt im Schnee"}},
		{Class: class, Properties: map[string]any{"text": "a red bicycle by the sea"}},
		{Class: class, Properties: map[string]any{"text": "湯気の立つ一杯のコーヒー"}},
	}
	var image string
	imageID := strfmt.UUID(uuid.NewString()) // to recognise the image among the results
	if imagePath != "" {
		b, err := os.ReadFile(imagePath)
		if err != nil {
			return err
		}
		image = base64.StdEncoding.EncodeToString(b)
		objects = append(objects, &models.Object{Class: class, ID: imageID, Properties: map[string]any{"image": image}})
	}
	res, err := client.Batch().ObjectsBatcher().WithObjects(objects...).Do(ctx)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	for _, r := range res {
		if r.Result != nil && r.Result.Errors != nil {
			return fmt.Errorf("import: object %s: %s", r.ID, r.Result.Errors.Error[0].Message)
		}
	}
	fmt.Printf("imported %d objects into %s (%s)\n", len(res), class, module)

	// nearText finds text and images.
	fields := []graphql.Field{{Name: "text"}, {Name: "_additional", Fields: []graphql.Field{{Name: "id"}, {Name: "distance"}}}}
	resp, err := client.GraphQL().Get().WithClassName(class).WithFields(fields...).
		WithNearText(client.GraphQL().NearTextArgBuilder().WithConcepts([]string{"a dog in the snow"})).
		WithLimit(2).Do(ctx)
	if err != nil {
		return fmt.Errorf("nearText: %w", err)
	}
	hits, err := results(resp, class)
	if err != nil {
		return fmt.Errorf("nearText: %w", err)
	}
	for _, h := range hits {
		text, _ := h["text"].(string)
		if text == "" {
			text = "(an image)"
		}
		fmt.Printf("nearText \"a dog in the snow\": %s (distance %.4f)\n", text, h["_additional"].(map[string]any)["distance"])
	}

	if image != "" {
		resp, err := client.GraphQL().Get().WithClassName(class).WithFields(fields...).
			WithNearImage(client.GraphQL().NearImageArgBuilder().WithImage(image)).
			WithLimit(1).Do(ctx)
		if err != nil {
			return fmt.Errorf("nearImage: %w", err)
		}
		hits, err := results(resp, class)
		if err != nil {
			return fmt.Errorf("nearImage: %w", err)
		}
		if len(hits) == 0 || hits[0]["_additional"].(map[string]any)["id"] != imageID.String() {
			return fmt.Errorf("nearImage with the imported image did not find it first: %v", hits)
		}
		fmt.Printf("nearImage: the imported image comes first (distance %.4f)\n", hits[0]["_additional"].(map[string]any)["distance"])
	}
	return nil
}

// results returns the objects of a Get query's answer.
func results(resp *models.GraphQLResponse, class string) ([]map[string]any, error) {
	if len(resp.Errors) > 0 {
		return nil, fmt.Errorf("%s", resp.Errors[0].Message)
	}
	get, _ := resp.Data["Get"].(map[string]any)
	list, _ := get[class].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, o := range list {
		if m, ok := o.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out, nil
}
