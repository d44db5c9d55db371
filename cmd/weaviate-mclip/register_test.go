package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClassListerWaitsForGraphQL: the class lister handed to the module
// runs on the module's goroutine while MakeAppState still assigns
// appState.ClusterService and appState.SchemaManager without a lock; it
// must read them only after appState.GetGraphQL (which locks) says the
// schema-update callback has run. A -race build of weaviate-mclip showed
// five data races at start-up without this order.
func TestClassListerWaitsForGraphQL(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "zz_generated_mclip_modules.go", registerSource, parser.SkipObjectResolution)
	require.NoError(t, err)
	var lister *ast.FuncLit
	ast.Inspect(f, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok && len(as.Lhs) == 1 && len(as.Rhs) == 1 {
			if id, ok := as.Lhs[0].(*ast.Ident); ok && id.Name == "classes" {
				if fl, ok := as.Rhs[0].(*ast.FuncLit); ok {
					lister = fl
				}
			}
		}
		return lister == nil
	})
	require.NotNil(t, lister, "no `classes := func...` in the generated registerModules")
	require.NotEmpty(t, lister.Body.List)

	// The appState fields the lister reads, in source order, and where
	// the GetGraphQL gate is.
	gate := token.NoPos
	var fields []*ast.SelectorExpr
	ast.Inspect(lister.Body, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); ok && x.Name == "appState" {
			if sel.Sel.Name == "GetGraphQL" {
				if gate == token.NoPos {
					gate = sel.Pos()
				}
			} else {
				fields = append(fields, sel)
			}
		}
		return true
	})
	require.NotEqual(t, token.NoPos, gate, "the lister never calls appState.GetGraphQL")
	first, ok := lister.Body.List[0].(*ast.IfStmt)
	require.True(t, ok, "the lister's first statement is the GetGraphQL gate")
	assert.True(t, first.Pos() <= gate && gate < first.Body.Pos(), "the first if tests appState.GetGraphQL()")
	require.NotEmpty(t, fields, "the lister reads the schema through appState")
	for _, sel := range fields {
		assert.Greater(t, sel.Pos(), first.End(), "appState.%s is read before the GetGraphQL gate", sel.Sel.Name)
	}
}
