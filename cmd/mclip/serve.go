package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/mclip-go/mclip/config"
	"github.com/mclip-go/mclip/inferenceapi"
	"github.com/mclip-go/mclip/modelstore"
	"github.com/mclip-go/mclip/vectorizer"
	"github.com/mclip-go/mclip/vectorizer/modelinfo"
)

func init() {
	register("serve", "serve the multi2vec-clip inference API (CLIP_INFERENCE_API of stock Weaviate)",
		"mclip serve --addr 127.0.0.1:8077\nENABLE_MODULES=multi2vec-clip CLIP_INFERENCE_API=http://127.0.0.1:8077 weaviate ...", runServe)
}

// removedServeFlags are flags of earlier versions, each with what replaces
// it: requests that exceed the limits now wait instead of being refused.
var removedServeFlags = map[string]string{
	"max-in-flight": "vectorize requests beyond the capacity now wait instead of being refused; their memory is bounded by --request-memory (bytes; " + config.EnvRequestMemory + "), which replaces this count (it bounded memory by this times --max-body-bytes), and their wait by --queue-timeout",
	"max-queued":    "queued texts and images are bounded by --request-memory (bytes; " + config.EnvRequestMemory + ") now, and wait for room instead of being refused",
}

// formatSize writes a byte count as config.ParseSize reads it.
func formatSize(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d%s", n/u.size, u.suffix)
		}
	}
	return fmt.Sprint(n)
}

// serveFlags are the settings of `mclip serve`.
type serveFlags struct {
	addr, model, modelDir, variant string
	token                          string
	logFormat, logLevel            string
	pull                           bool
	opts                           inferenceapi.Options
}

func (f *serveFlags) register(fs *flag.FlagSet, cfg config.Config) {
	fs.StringVar(&f.addr, "addr", cfg.Addr, "host:port to listen on ($"+config.EnvAddr+"); :8080 listens on every interface, as the container does")
	fs.StringVar(&f.model, "model", cfg.Model, modelFlagUsage)
	fs.StringVar(&f.modelDir, "model-dir", cfg.ModelDir, "model directory used as is ($"+config.EnvModelDir+"; default: the model store's cache, see 'mclip models path')")
	fs.StringVar(&f.variant, "variant", cfg.Variant, "model variant: fp32, int8, fp16 or auto ($"+config.EnvVariant+")")
	fs.BoolVar(&f.pull, "pull", false, "download missing models into the cache before serving (default: fail)")
	fs.StringVar(&f.token, "token", "", "require this token on /vectorize, as a bearer token or the basic-auth password: CLIP_INFERENCE_API=http://mclip:TOKEN@host:port ($"+config.EnvAPIToken+", preferred: flags show in ps)")
	fs.IntVar(&f.opts.BatchSize, "batch-size", cfg.BatchSize, "most items per model call ($"+config.EnvBatchSize+")")
	fs.DurationVar(&f.opts.MaxWait, "batch-wait", cfg.BatchWait, "longest wait to group concurrent requests into one model call; a request at an idle server never waits; 0 disables ($"+config.EnvBatchWait+")")
	fs.BoolVar(&f.opts.NoCrossRequestBatching, "no-cross-request-batching", false, "encode each request on its own, as the Python container does")
	fs.Int64Var(&f.opts.MaxBodyBytes, "max-body-bytes", inferenceapi.DefaultMaxBodyBytes, "largest request body (413 beyond)")
	fs.IntVar(&f.opts.MaxTexts, "max-texts", inferenceapi.DefaultMaxTexts, "most texts per request (413 beyond)")
	fs.IntVar(&f.opts.MaxImages, "max-images", inferenceapi.DefaultMaxImages, "most images per request (413 beyond)")
	f.opts.MemoryBudget = cfg.RequestMemory
	fs.Func("request-memory", fmt.Sprintf("memory budget of the vectorize requests held at once: bodies, decoded strings and images, results (like 1GiB; default %s); more requests wait for room ($%s)", formatSize(cfg.RequestMemory), config.EnvRequestMemory), func(v string) error {
		n, err := config.ParseSize(v)
		if err != nil {
			return err
		}
		if n < 1 {
			return errors.New("want a positive byte count")
		}
		f.opts.MemoryBudget = n
		return nil
	})
	fs.DurationVar(&f.opts.QueueTimeout, "queue-timeout", cfg.QueueTimeout, "longest wait of a vectorize request for room in --request-memory (429 beyond); keep it below Weaviate's MODULES_CLIENT_TIMEOUT (50s) ($"+config.EnvQueueTimeout+")")
	for name, old := range removedServeFlags {
		fs.Func(name, "removed: "+old, func(string) error { return errors.New("removed: " + old) })
	}
	fs.DurationVar(&f.opts.ShutdownTimeout, "shutdown-timeout", inferenceapi.DefaultShutdownTimeout, "on SIGTERM, how long in-flight requests may take to finish")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
}

func runServe(ctx context.Context, args []string, _, stderr io.Writer) error {
	cfg, err := config.FromEnv()
	if err != nil {
		// serve's settings are its flags' defaults: a bad one is a bad
		// command line.
		return usageError{err}
	}
	fs := newFlagSet("serve", stderr)
	var f serveFlags
	f.register(fs, cfg)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	log, err := newLogger(stderr, f.logFormat, f.logLevel)
	if err != nil {
		return usageError{err}
	}
	cfg.Model = strings.TrimSpace(f.model)
	cfg.ModelDir = f.modelDir
	cfg.Variant = strings.ToLower(strings.TrimSpace(f.variant))
	cfg.BatchSize = f.opts.BatchSize
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	f.opts.Token = f.token
	if f.opts.Token == "" {
		f.opts.Token = cfg.APIToken
	}
	f.opts.Logger = log
	srv, err := inferenceapi.New(f.opts)
	if err != nil {
		return usageError{err}
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", f.addr, err)
	}

	// Listen first, so that Weaviate sees a live server whose readiness
	// waits for the models.
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(serveCtx, ln) }()

	enc, meta, err := loadForServe(ctx, cfg, f.pull, stderr, log)
	if err != nil {
		stop()
		<-served
		return err
	}
	defer func() {
		if err := enc.Close(); err != nil {
			log.Warn("close the models", "error", err)
		}
	}()
	if err := srv.SetReady(enc, meta); err != nil {
		// Serve ended while the models loaded: a signal, or a failure.
		stop()
		if serveErr := <-served; serveErr != nil {
			return serveErr
		}
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("install the models: %w", err)
	}
	return <-served
}

// loadForServe opens the models of cfg and builds the /meta document.
func loadForServe(ctx context.Context, cfg config.Config, pull bool, stderr io.Writer, log *slog.Logger) (*vectorizer.Encoder, inferenceapi.Meta, error) {
	start := time.Now()
	v, err := vectorizer.Open(ctx, cfg, vectorizer.OpenOptions{Pull: pull, Log: stderr, Resolved: func(dir modelstore.Dir) {
		log.Info("loading models", "dir", dir.Root, "variant", cfg.Variant)
	}})
	if err != nil {
		return nil, inferenceapi.Meta{}, err
	}
	info := v.Info()
	meta, err := inferenceapi.NewMeta(info, cfg.BatchSize)
	if err != nil {
		_ = v.Close()
		return nil, inferenceapi.Meta{}, err
	}
	log.Info("models loaded", "duration", time.Since(start).Round(time.Millisecond),
		"text", info.Text.File, "vision", info.Vision.File, "variant", info.Text.Variant,
		"dimensions", info.Dimensions, "onnxruntime", info.Runtime,
		"text_fused_layer_norms", info.Text.FusedLayerNorms, "vision_fused_layer_norms", info.Vision.FusedLayerNorms)
	for tower, problem := range info.CacheProblems() {
		log.Warn(modelinfo.CacheWarning, "tower", tower, "error", problem)
	}
	return v, meta, nil
}

// newLogger returns a slog logger writing text or JSON to w.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %s: want debug, info, warn or error", strconv.Quote(level))
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format %s: want text or json", strconv.Quote(format))
	}
}
