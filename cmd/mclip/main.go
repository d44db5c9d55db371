// Command mclip embeds text and images with multilingual CLIP, manages the
// models, and serves the multi2vec-clip inference API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand. Files of this package register theirs in init
// under their full name ("embed", "models pull").
type command struct {
	summary string
	example string // shown by -h: one or more command lines
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(name, summary, example string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	if _, dup := commands[name]; dup {
		panic("mclip: command registered twice: " + name)
	}
	if example == "" {
		panic("mclip: command without an example: " + name)
	}
	commands[name] = command{summary: summary, example: example, run: run}
}

// errExit1 makes main exit 1 without printing anything more: the command has
// already reported what failed (for example one item of several).
var errExit1 = errors.New("exit status 1")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "-version" {
		printVersion(stdout)
		return 0
	}
	name, rest := lookup(args)
	cmd, ok := commands[name]
	if !ok {
		if group := subcommands(args[0]); len(group) > 0 {
			return groupUsage(args, group, stderr)
		}
		fmt.Fprintf(stderr, "mclip: unknown command %q\n\n", strings.Join(args[:min(len(args), 2)], " "))
		usage(stderr)
		return 2
	}
	if err := cmd.run(ctx, rest, stdout, stderr); err != nil {
		switch {
		case errors.Is(err, errExit1):
		case errors.Is(err, flag.ErrHelp):
			return 0
		default:
			fmt.Fprintf(stderr, "mclip %s: %v\n", name, err)
		}
		var usageErr usageError
		if errors.As(err, &usageErr) {
			return 2
		}
		return 1
	}
	return 0
}

// lookup finds the longest registered command name that prefixes args.
func lookup(args []string) (string, []string) {
	if len(args) >= 2 {
		if _, ok := commands[args[0]+" "+args[1]]; ok {
			return args[0] + " " + args[1], args[2:]
		}
	}
	return args[0], args[1:]
}

// subcommands returns the sorted names of the commands under group ("models
// pull", "models list", ... for "models").
func subcommands(group string) []string {
	var out []string
	for n := range commands {
		if strings.HasPrefix(n, group+" ") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// groupUsage answers `mclip models` (and `mclip models -h`, `mclip models
// nonsense`): the group's subcommands.
func groupUsage(args, group []string, stderr io.Writer) int {
	code := 2
	switch {
	case len(args) == 1:
		fmt.Fprintf(stderr, "mclip %s: which one?\n\n", args[0])
	case args[1] == "-h" || args[1] == "--help" || args[1] == "help":
		code = 0
	default:
		fmt.Fprintf(stderr, "mclip: unknown command %q\n\n", args[0]+" "+args[1])
	}
	fmt.Fprintf(stderr, "usage: mclip %s <command> [flags]\n\ncommands:\n", args[0])
	for _, n := range group {
		fmt.Fprintf(stderr, "  %-16s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(stderr, "\nRun `mclip %s <command> -h` for a command's flags and an example.\n", args[0])
	return code
}

// usageError marks errors in the command line (exit status 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("mclip "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args and wraps errors as usage errors. Flags may come
// before, between and after the positional arguments (`mclip embed a.jpg
// --format table`); everything after "--" is positional. -h ends with the
// command's example.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				if c, ok := commands[strings.TrimPrefix(fs.Name(), "mclip ")]; ok {
					fmt.Fprintf(fs.Output(), "\nexample:\n  %s\n", strings.ReplaceAll(c.example, "\n", "\n  "))
				}
				return err
			}
			return usageError{err}
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if len(rest) == 0 || (consumed > 0 && args[consumed-1] == "--") {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	// leave fs.Args() as the positional arguments, in their order
	if len(positional) == 0 {
		return fs.Parse(nil)
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "mclip: multilingual CLIP (clip-ViT-B-32-multilingual-v1) in Go")
	fmt.Fprintln(w, "\nusage: mclip <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-16s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun `mclip <command> -h` for a command's flags and an example; `mclip --version` for the version.")
}
