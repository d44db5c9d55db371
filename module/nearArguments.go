package module

import (
	"maps"

	"github.com/weaviate/weaviate/entities/modulecapabilities"
	"github.com/weaviate/weaviate/usecases/modulecomponents/arguments/nearImage"
	"github.com/weaviate/weaviate/usecases/modulecomponents/arguments/nearText"
)

func (m *Module) initNearImage() {
	m.nearImageSearcher = nearImage.NewSearcher[[]float32](m)
	m.nearImageGraphqlProvider = nearImage.New()
}

func (m *Module) initNearText() {
	m.nearTextSearcher = nearText.NewSearcher[[]float32](m)
	m.nearTextGraphqlProvider = nearText.New(m.nearTextTransformer)
}

// Arguments are the GraphQL arguments nearText and nearImage.
func (m *Module) Arguments() map[string]modulecapabilities.GraphQLArgument {
	arguments := map[string]modulecapabilities.GraphQLArgument{}
	maps.Copy(arguments, m.nearImageGraphqlProvider.Arguments())
	maps.Copy(arguments, m.nearTextGraphqlProvider.Arguments())
	return arguments
}

// VectorSearches turn nearText and nearImage into vectors.
func (m *Module) VectorSearches() map[string]modulecapabilities.VectorForParams[[]float32] {
	vectorSearches := map[string]modulecapabilities.VectorForParams[[]float32]{}
	maps.Copy(vectorSearches, m.nearImageSearcher.VectorSearches())
	maps.Copy(vectorSearches, m.nearTextSearcher.VectorSearches())
	return vectorSearches
}

var (
	_ = modulecapabilities.GraphQLArguments(New())
	_ = modulecapabilities.Searcher[[]float32](New())
)
