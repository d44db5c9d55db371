package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/mclip-go/mclip/catalog"
	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/modelstore"
)

func init() {
	register("models pull", "download the models from the Hugging Face hub into the cache, verified and pinned",
		"mclip models pull\nmclip models pull --variant int8", runModelsPull)
	register("models verify", "hash the cached (or --model-dir) model files against the lock file",
		"mclip models verify\nmclip models verify --model-dir /srv/mclip-models", runModelsVerify)
	register("models list", "list the models (by multi2vec-clip image tag) and which this build runs, then one model's files, their source and state",
		"mclip models list --variant auto\nmclip models list --model "+catalog.CLIPB32, runModelsList)
	register("models path", "print the model directory (MODEL_DIR) that --model-dir and MCLIP_MODEL_DIR accept; say on stderr where its files came from",
		"MCLIP_MODEL_DIR=$(mclip models path) bin/weaviate-mclip ...", runModelsPath)
}

// storeFlags are the flags the models commands share. Defaults come from the
// environment (read by package config): MCLIP_VARIANT, MCLIP_CACHE_DIR, MCLIP_MODEL_DIR,
// MCLIP_MODELS_LOCK, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, HF_HUB_CACHE,
// HF_HOME.
type storeFlags struct {
	opts    modelstore.Options
	variant string
	model   string
}

func (s *storeFlags) register(fs *flag.FlagSet) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	env, err := modelstore.OptionsFor(cfg)
	if err != nil {
		return err
	}
	s.opts = env
	s.model = cfg.Model
	fs.StringVar(&s.model, "model", cfg.Model, modelFlagUsage)
	fs.StringVar(&s.variant, "variant", string(env.Variant), "model variant: fp32, int8, fp16 or auto (int8 on AVX2/AVX-512/arm64 CPUs, else fp32); $"+config.EnvVariant+" sets the default")
	fs.StringVar(&s.opts.CacheDir, "cache-dir", env.CacheDir, "cache root (default $"+config.EnvCacheDir+", else $XDG_CACHE_HOME/mclip or ~/.cache/mclip)")
	fs.StringVar(&s.opts.ModelDir, "model-dir", env.ModelDir, "a local model directory used as is, without network (default $"+config.EnvModelDir+")")
	fs.StringVar(&s.opts.LockFile, "lock", env.LockFile, "lock file pinning commits and sha256s (default $"+config.EnvLockFile+", else mclip-models.lock in the model directory)")
	fs.StringVar(&s.opts.Endpoint, "endpoint", env.Endpoint, "hub endpoint, https only (default $"+config.EnvHubEndpoint+", else "+modelstore.DefaultEndpoint+")")
	fs.StringVar(&s.opts.HFCache, "hf-cache", env.HFCache, "Hugging Face cache whose files are verified and linked instead of downloaded; empty for none (default $"+config.EnvHubCache+", else $"+config.EnvHFHome+"/hub, else ~/.cache/huggingface/hub)")
	fs.StringVar(&s.opts.Revisions.Text, "text-revision", "", "branch, tag or commit of the text tower's repository ("+modelstore.TextRepo+" for the default model; default main)")
	fs.StringVar(&s.opts.Revisions.Vision, "vision-revision", "", "branch, tag or commit of the vision tower's repository ("+modelstore.VisionRepo+" for the default model; default main)")
	return nil
}

// open parses the flags and opens the store; progress and notes go to
// stderr (a progress bar when it is a terminal).
func (s *storeFlags) open(fs *flag.FlagSet, args []string, stderr io.Writer) (*modelstore.Store, error) {
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	v, err := modelstore.ParseVariant(s.variant)
	if err != nil {
		return nil, usageError{err}
	}
	s.opts.Variant = v
	m, err := catalog.Lookup(s.model)
	if err != nil {
		return nil, usageError{fmt.Errorf("--model: %w", err)}
	}
	s.opts.Model = ""
	if m.Tag != catalog.Default {
		s.opts.Model = m.Tag
	}
	s.opts.Log = stderr
	return modelstore.Open(s.opts)
}

func newStoreCommand(name string, stderr io.Writer) (*flag.FlagSet, *storeFlags, error) {
	fs := newFlagSet(name, stderr)
	var sf storeFlags
	if err := sf.register(fs); err != nil {
		return nil, nil, err
	}
	return fs, &sf, nil
}

func runModelsPull(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, sf, err := newStoreCommand("models pull", stderr)
	if err != nil {
		return err
	}
	fs.BoolVar(&sf.opts.Update, "update", false, "accept files that changed upstream and rewrite their lock entries")
	s, err := sf.open(fs, args, stderr)
	if err != nil {
		return err
	}
	v, why := s.Variant()
	if s.Local() {
		// A local directory is used as is: check it, fetch nothing.
		dir, err := s.Resolve(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%s is a local model directory (%s): nothing to pull; variant %s is complete\n", dir.Root, config.EnvModelDir, v)
		return nil
	}
	fmt.Fprintf(stderr, "variant %s (%s) into %s\n", v, why, s.Dir().Root)
	res, err := s.Pull(ctx)
	if err != nil {
		return err
	}
	switch {
	case res.Offline && len(res.FromHFCache) > 0:
		fmt.Fprintf(stderr, "offline: %d files taken from the Hugging Face cache %s (verified), %d already there; lock %s\n",
			len(res.FromHFCache), res.HFCache, len(res.Kept), s.LockPath())
	case res.Offline:
		fmt.Fprintf(stderr, "offline: the cache is complete, used as is (not checked against the hub)\n")
	default:
		var repos []string
		for _, r := range s.Model().Repos() {
			repos = append(repos, r+"@"+short(res.Commits[r]))
		}
		fmt.Fprintf(stderr, "%d files downloaded, %d taken from the Hugging Face cache%s, %d already there and verified; %s; lock %s\n",
			len(res.Downloaded), len(res.FromHFCache), inDir(res.HFCache), len(res.Kept), strings.Join(repos, ", "), s.LockPath())
	}
	fmt.Fprintln(stdout, res.Dir.Root)
	return nil
}

func inDir(dir string) string {
	if dir == "" {
		return ""
	}
	return " " + dir
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

func runModelsVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, sf, err := newStoreCommand("models verify", stderr)
	if err != nil {
		return err
	}
	s, err := sf.open(fs, args, stderr)
	if err != nil {
		return err
	}
	sts, err := s.Verify(ctx)
	for _, st := range sts {
		sum := st.SHA256
		if sum == "" {
			sum = "-"
		}
		fmt.Fprintf(stdout, "%-8s %s  %s\n", st.State, sum, st.Rel())
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d files match %s\n", len(sts), s.LockPath())
	return nil
}

func runModelsList(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs, sf, err := newStoreCommand("models list", stderr)
	if err != nil {
		return err
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := printCatalog(stdout, sf.model); err != nil {
		return err
	}
	m, err := catalog.Lookup(sf.model)
	if err != nil {
		return usageError{fmt.Errorf("--model: %w", err)}
	}
	if !m.Available() {
		fmt.Fprintf(stdout, "\n%s is %s\n", m.Tag, m.Status())
		return nil
	}
	fmt.Fprintf(stdout, "\nfiles of %s: ", m.Tag)
	s, err := sf.open(fs, fs.Args(), stderr)
	if err != nil {
		return err
	}
	sts, err := s.Status()
	if err != nil {
		return err
	}
	v, why := s.Variant()
	fmt.Fprintf(stdout, "variant %s (%s), %s\n", v, why, s.Dir().Root)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tSOURCE\tSIZE\tSTATE\tSHA256 (LOCK)")
	for _, st := range sts {
		sum, size := "-", "-"
		if st.Pinned {
			sum = short(st.Locked.SHA256)
		}
		if st.Size > 0 || st.State != modelstore.StateMissing {
			size = fmt.Sprint(st.Size)
		}
		fmt.Fprintf(tw, "%s\t%s@%s\t%s\t%s\t%s\n", st.Rel(), st.Repo, st.Revision, size, st.State, sum)
	}
	return tw.Flush()
}

// printCatalog writes one line per model: its tag (the selected one
// marked), hub repositories, languages, dimension and whether this build
// runs it.
func printCatalog(w io.Writer, selected string) error {
	sel, _ := catalog.Lookup(selected)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  MODEL (IMAGE TAG)\tHUB REPOSITORIES\tLANGUAGES\tDIM\tNORMALISED\tSTATUS")
	for _, m := range catalog.All() {
		mark := " "
		if m.Tag == sel.Tag {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%d\t%t\t%s\n", mark, m.Tag, strings.Join(m.Repos(), ", "), m.Languages, m.Dimension, m.Normalize, m.Status())
	}
	return tw.Flush()
}

func runModelsPath(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs, sf, err := newStoreCommand("models path", stderr)
	if err != nil {
		return err
	}
	s, err := sf.open(fs, args, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, s.Dir().Root)
	return describeSources(s, stderr)
}

// describeSources says on w, by repository, where the model directory's
// files came from, and which missing ones a pull would take from the
// Hugging Face cache instead of downloading.
func describeSources(s *modelstore.Store, w io.Writer) error {
	if s.Local() {
		fmt.Fprintf(w, "a local model directory (%s), used as is\n", config.EnvModelDir)
		return nil
	}
	srcs, err := s.Sources()
	if err != nil {
		return err
	}
	type key struct{ repo, what string }
	counts := map[key]int{}
	var order []key
	for _, src := range srcs {
		var what string
		switch {
		case src.Present && src.Origin.Source == modelstore.SourceHFCache:
			what = "taken from the Hugging Face cache " + s.HFCache() + " (" + src.Origin.How + ")"
		case src.Present && src.Origin.Source == modelstore.SourceHub:
			what = "downloaded from " + src.Origin.From
		case src.Present:
			what = "in the cache"
		case src.InHFCache != "":
			what = "missing, in the Hugging Face cache " + s.HFCache() + ": `mclip models pull` takes them from there"
		default:
			what = "missing: `mclip models pull` downloads them"
		}
		k := key{src.Repo + "@" + src.Revision, what}
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	for _, k := range order {
		fmt.Fprintf(w, "%s: %d files %s\n", k.repo, counts[k], k.what)
	}
	return nil
}
