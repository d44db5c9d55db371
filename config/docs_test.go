package config

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// configurationPage is where every setting is documented.
var configurationPage = filepath.Join("..", "docs", "configuration.md")

// envName is what an environment variable's name looks like in config's
// source: upper case words joined by underscores.
var envName = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$`)

// settingsRead returns the environment variable names in the string
// literals of the package's Go files (tests excluded): the settings the
// package reads, whatever constant or call names them.
func settingsRead(t *testing.T, dir string) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && envName.MatchString(s) {
				seen[s] = true
			}
			return true
		})
	}
	names := make([]string, 0, len(seen))
	for s := range seen {
		names = append(names, s)
	}
	sort.Strings(names)
	return names
}

// documentedSettings returns the names in the first column of the page's
// tables (a cell like "`A`" or "`A`, `B`").
func documentedSettings(page string) map[string]bool {
	cell := regexp.MustCompile("`([A-Z][A-Z0-9_]*)`")
	names := map[string]bool{}
	for _, line := range strings.Split(page, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.SplitN(line[1:], "|", 2)[0]
		for _, m := range cell.FindAllStringSubmatch(first, -1) {
			names[m[1]] = true
		}
	}
	return names
}

func TestEverySettingIsDocumented(t *testing.T) {
	read := settingsRead(t, ".")
	require.Contains(t, read, EnvModelDir, "the parse finds config's settings")
	require.Contains(t, read, EnvHubOldToken)
	page, err := os.ReadFile(configurationPage)
	require.NoError(t, err)
	documented := documentedSettings(string(page))
	for _, name := range read {
		assert.True(t, documented[name], "%s is read by config/ but has no row in docs/configuration.md", name)
	}
}

func TestDocumentedSettingsAreRead(t *testing.T) {
	read := map[string]bool{}
	for _, name := range settingsRead(t, ".") {
		read[name] = true
	}
	page, err := os.ReadFile(configurationPage)
	require.NoError(t, err)
	for name := range documentedSettings(string(page)) {
		if strings.HasPrefix(name, "MCLIP_") || strings.HasPrefix(name, "HF_") {
			assert.True(t, read[name], "docs/configuration.md documents %s, which config/ does not read", name)
		}
	}
}

func TestDocumentedSettings(t *testing.T) {
	for _, tc := range []struct {
		name, page string
		want       []string
	}{
		{"one per row", "| `A_B` | 1 | x |\n| `C_D` | 2 | y |", []string{"A_B", "C_D"}},
		{"several in a cell", "| `A_B`, `C_D` | | x |", []string{"A_B", "C_D"}},
		{"only the first column", "| `A_B` | `C_D` | x |", []string{"A_B"}},
		{"prose does not count", "`A_B` is set in prose", nil},
		{"header rows do not count", "| variable | default |\n|---|---|", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := documentedSettings(tc.page)
			names := make([]string, 0, len(got))
			for n := range got {
				names = append(names, n)
			}
			sort.Strings(names)
			assert.Equal(t, tc.want, nilIfEmpty(names))
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
