package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// Hit is one object of a GraphQL Get search: its id and its distance to
// the query.
type Hit struct {
	ID       string
	Distance float64
}

// NearQuery is the GraphQL query for the limit objects of class nearest to
// a search, with their ids and distances; search is the class's arguments
// besides limit, e.g. `nearText:{concepts:["a dog"]}`.
func NearQuery(class, search string, limit int) string {
	return fmt.Sprintf(`{Get{%s(%s, limit: %d){_additional{id distance}}}}`, class, search, limit)
}

// ParseHits reads the hits for class from the answer to a NearQuery, in
// Weaviate's order; GraphQL errors in the answer are an error.
func ParseHits(answer []byte, class string) ([]Hit, error) {
	var r struct {
		Data struct {
			Get map[string][]struct {
				Additional struct {
					ID       string  `json:"id"`
					Distance float64 `json:"distance"`
				} `json:"_additional"`
			} `json:"Get"`
		} `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(answer, &r); err != nil {
		return nil, fmt.Errorf("graphql answer: %w", err)
	}
	if len(r.Errors) > 0 {
		return nil, fmt.Errorf("graphql errors: %s", answer)
	}
	hits := make([]Hit, 0, len(r.Data.Get[class]))
	for _, h := range r.Data.Get[class] {
		hits = append(hits, Hit{ID: h.Additional.ID, Distance: h.Additional.Distance})
	}
	return hits, nil
}

// NearHits posts NearQuery(class, search, limit) to Weaviate's GraphQL
// endpoint (http://HOST/v1/graphql) and returns the hits; anything but a
// 200 answer without errors fails the test.
func NearHits(t testing.TB, graphqlURL, class, search string, limit int) []Hit {
	t.Helper()
	body, err := json.Marshal(map[string]string{"query": NearQuery(class, search, limit)})
	if err != nil {
		t.Fatalf("graphql query: %v", err)
	}
	client := &http.Client{Timeout: 2 * time.Minute}
	resp, err := client.Post(graphqlURL, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("graphql %s: %v", class, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("graphql %s: read the answer: %v", class, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("graphql %s: %s: %s", class, resp.Status, answer)
	}
	hits, err := ParseHits(answer, class)
	if err != nil {
		t.Fatalf("graphql %s (%s): %v", class, search, err)
	}
	return hits
}
