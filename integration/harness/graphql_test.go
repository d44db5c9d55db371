package harness

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNearQuery(t *testing.T) {
	assert.Equal(t, `{Get{Art(nearText:{concepts:["a dog"]}, limit: 3){_additional{id distance}}}}`,
		NearQuery("Art", `nearText:{concepts:["a dog"]}`, 3))
}

func TestParseHits(t *testing.T) {
	tests := []struct {
		name, class, answer string
		want                []Hit
		wantErr             string
	}{
		{
			name:   "two hits in Weaviate's order",
			class:  "Art",
			answer: `{"data":{"Get":{"Art":[{"_additional":{"id":"b","distance":0.25}},{"_additional":{"id":"a","distance":0.5}}]}}}`,
			want:   []Hit{{"b", 0.25}, {"a", 0.5}},
		},
		{
			name:   "another class's hits are not ours",
			class:  "Art",
			answer: `{"data":{"Get":{"Multi":[{"_additional":{"id":"m","distance":0.1}}]}}}`,
			want:   []Hit{},
		},
		{
			name:    "graphql errors",
			class:   "Art",
			answer:  `{"data":{"Get":{"Art":null}},"errors":[{"message":"no such class"}]}`,
			wantErr: "no such class",
		},
		{
			name:    "not json",
			class:   "Art",
			answer:  `<html>`,
			wantErr: "graphql answer",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHits([]byte(tt.answer), tt.class)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestNearHits(t *testing.T) {
	var query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Query string }
		if r.Method != http.MethodPost || r.URL.Path != "/v1/graphql" || json.NewDecoder(r.Body).Decode(&body) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		query = body.Query
		_, _ = w.Write([]byte(`{"data":{"Get":{"Art":[{"_additional":{"id":"x","distance":0.125}}]}}}`))
	}))
	defer srv.Close()

	hits := NearHits(t, srv.URL+"/v1/graphql", "Art", `nearImage:{image:"AAAA"}`, 15)
	assert.Equal(t, []Hit{{"x", 0.125}}, hits)
	assert.Equal(t, NearQuery("Art", `nearImage:{image:"AAAA"}`, 15), query)
}
