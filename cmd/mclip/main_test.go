package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/version"
)

func TestCommandGroup(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		code      int
		wantErr   []string
		unwantErr []string
	}{
		{"no subcommand: the list", []string{"models"}, 2,
			[]string{"mclip models: which one?", "usage: mclip models <command>", "models pull", "models verify", "models list", "models path", "models gen"},
			[]string{"unknown command", "serve"}},
		{"help", []string{"models", "-h"}, 0, []string{"models pull", "models gen"}, []string{"which one", "unknown"}},
		{"unknown subcommand", []string{"models", "fetch"}, 2, []string{`unknown command "models fetch"`, "models pull"}, nil},
		{"unknown command", []string{"modles"}, 2, []string{`unknown command "modles"`, "embed"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runMain(context.Background(), tt.args, &stdout, &stderr)
			assert.Equal(t, tt.code, code, stderr.String())
			for _, w := range tt.wantErr {
				assert.Contains(t, stderr.String(), w)
			}
			for _, w := range tt.unwantErr {
				assert.NotContains(t, stderr.String(), w)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	old := version.Version
	t.Cleanup(func() { version.Version = old })
	version.Version = "v0.0.0-test-3-gabcdef0"
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runMain(context.Background(), args, &stdout, &stderr)
			require.Equal(t, 0, code, stderr.String())
			assert.Contains(t, stdout.String(), "mclip v0.0.0-test-3-gabcdef0\n")
			assert.Contains(t, stdout.String(), "commit ")
			assert.Contains(t, stdout.String(), "onnxruntime")
		})
	}
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 2, runMain(context.Background(), []string{"version", "extra"}, &stdout, &stderr))
}

// TestEveryCommandHasAnExample: -h of each command ends with its example.
func TestEveryCommandHasAnExample(t *testing.T) {
	require.NotEmpty(t, commands)
	for name, c := range commands {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runMain(context.Background(), append(strings.Fields(name), "-h"), &stdout, &stderr)
			assert.Equal(t, 0, code, stderr.String())
			first, _, _ := strings.Cut(c.example, "\n")
			assert.Contains(t, stderr.String(), "\nexample:\n  "+first)
			assert.Contains(t, c.example, "mclip", "an example shows the command line")
		})
	}
}

func TestParseFlagsAnywhere(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantFormat string
		wantArgs   []string
		wantErr    string
	}{
		{"flags first", []string{"--format", "table", "a.jpg", "b.jpg"}, "table", []string{"a.jpg", "b.jpg"}, ""},
		{"flag after files", []string{"a.jpg", "b.jpg", "--format", "table"}, "table", []string{"a.jpg", "b.jpg"}, ""},
		{"flag between files", []string{"a.jpg", "--format=table", "b.jpg"}, "table", []string{"a.jpg", "b.jpg"}, ""},
		{"stdin dash stays a file", []string{"-", "--format", "table"}, "table", []string{"-"}, ""},
		{"after -- everything is a file", []string{"a.jpg", "--", "--format", "-b.jpg"}, "json", []string{"a.jpg", "--format", "-b.jpg"}, ""},
		{"no arguments", nil, "json", nil, ""},
		{"unknown flag after a file", []string{"a.jpg", "--nope"}, "", nil, "flag provided but not defined: -nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("mclip test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			format := fs.String("format", "json", "")
			err := parseFlags(fs, tt.args)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				var ue usageError
				assert.ErrorAs(t, err, &ue)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantFormat, *format)
			assert.Equal(t, tt.wantArgs, fs.Args())
		})
	}
}
