// Package config reads mclip's settings from the environment and validates
// them: it is the only reader of MCLIP_* (and of the hub's HF_* variables);
// every other package takes the values. Every setting has a default;
// docs/configuration.md lists them (docs_test.go fails when one is missing).
package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mclip-go/mclip/catalog"
)

// Environment variables.
const (
	// EnvModel names the model by the tag of the multi2vec-clip image that
	// computes the same vectors (see package catalog).
	EnvModel         = "MCLIP_MODEL"
	EnvModelDir      = "MCLIP_MODEL_DIR"
	EnvCacheDir      = "MCLIP_CACHE_DIR"
	EnvVariant       = "MCLIP_VARIANT"
	EnvThreads       = "MCLIP_THREADS"
	EnvInterThreads  = "MCLIP_INTER_OP_THREADS"
	EnvBatchSize     = "MCLIP_BATCH_SIZE"
	EnvMaxPixels     = "MCLIP_MAX_PIXELS"
	EnvMaxImageBytes = "MCLIP_MAX_IMAGE_BYTES"
	EnvMaxTextBytes  = "MCLIP_MAX_TEXT_BYTES"
	EnvApplyEXIF     = "MCLIP_APPLY_EXIF_ORIENTATION"
	EnvProvider      = "MCLIP_EXECUTION_PROVIDER"
	// EnvORTLib is ONNX Runtime's library; package ortlib's search also
	// starts with it, for callers without settings.
	EnvORTLib       = "ONNXRUNTIME_LIB"
	EnvOptimizedDir = "MCLIP_OPTIMIZED_CACHE_DIR"
	// EnvReplaceClip makes weaviate-mclip serve the module name
	// multi2vec-clip itself, in-process, instead of Weaviate's HTTP module.
	EnvReplaceClip = "MCLIP_REPLACE_MULTI2VEC_CLIP"
	// EnvClipInferenceAPI is Weaviate's multi2vec-clip container URL; it is
	// read only to say that the switch above makes it unused.
	EnvClipInferenceAPI = "CLIP_INFERENCE_API"
)

// Environment variables of the model store (`mclip models`, and where the
// models are looked for at start-up). The HF_* ones mean what they mean to
// huggingface_hub.
const (
	EnvLockFile    = "MCLIP_MODELS_LOCK"
	EnvHubEndpoint = "HF_ENDPOINT"
	EnvHubToken    = "HF_TOKEN"
	// EnvHubOldToken is huggingface_hub's older name of HF_TOKEN, read
	// when HF_TOKEN is unset.
	EnvHubOldToken = "HUGGING_FACE_HUB_TOKEN"
	EnvHubOffline  = "HF_HUB_OFFLINE"
	// EnvHubCache is huggingface_hub's cache of hub repositories, whose
	// files the model store reuses instead of downloading them again;
	// EnvHFHome is huggingface_hub's home, whose "hub" directory is that
	// cache when HF_HUB_CACHE is unset.
	EnvHubCache = "HF_HUB_CACHE"
	EnvHFHome   = "HF_HOME"
)

// Environment variables of `mclip serve` only.
const (
	EnvAddr      = "MCLIP_ADDR"
	EnvAPIToken  = "MCLIP_API_TOKEN"
	EnvBatchWait = "MCLIP_BATCH_WAIT"
	// EnvRequestMemory is the memory budget of the vectorize requests
	// admitted at once; more wait for room.
	EnvRequestMemory = "MCLIP_REQUEST_MEMORY"
	// EnvQueueTimeout bounds a request's wait for room in that budget.
	EnvQueueTimeout = "MCLIP_QUEUE_TIMEOUT"
)

// Defaults.
const (
	DefaultVariant       = "fp32"
	DefaultBatchSize     = 32
	DefaultMaxPixels     = 89_478_485 // Pillow's Image.MAX_IMAGE_PIXELS
	DefaultMaxImageBytes = 32 << 20
	DefaultMaxTextBytes  = 1 << 20
	DefaultProvider      = "cpu"
	// DefaultAddr is where `mclip serve` listens.
	DefaultAddr = "127.0.0.1:8080"
	// DefaultBatchWait is how long `mclip serve` waits to group concurrent
	// requests into one model call.
	DefaultBatchWait = 2 * time.Millisecond
	// DefaultRequestMemory is `mclip serve`'s memory budget of vectorize
	// requests: room for thousands of Weaviate's one-object requests, and
	// for several of the largest body (64 MiB) at once.
	DefaultRequestMemory = 1 << 30
	// DefaultQueueTimeout is how long a vectorize request waits for room
	// in the budget before it is refused. Weaviate's module HTTP client
	// gives a whole request MODULES_CLIENT_TIMEOUT, 50 s by default
	// (usecases/config/environment.go; multi2vec-clip's clients.New takes
	// it as http.Client.Timeout), and fails the object on any answer above
	// 399 without retrying: 30 s of waiting leaves the encoding 20 s, and
	// a request that cannot be served is answered with the reason before
	// Weaviate gives up on it.
	DefaultQueueTimeout = 30 * time.Second
)

// Config holds mclip's settings: the module's and the CLI's, the model
// store's, and `mclip serve`'s own.
type Config struct {
	// Model is the model's tag (catalog.Default when unset). Validate
	// accepts every tag the catalog knows; whether this build runs it is
	// checked where the models are opened.
	Model string
	// ModelDir is a local model directory in the contract layout. Empty
	// means the model store's cache.
	ModelDir string
	// CacheDir overrides the model store's cache directory.
	CacheDir string
	// Variant is fp32, int8, fp16 or auto.
	Variant string
	// Threads is ONNX Runtime's intra-op thread count per session; 0 lets
	// ONNX Runtime choose (one per physical core).
	Threads int
	// InterOpThreads is ONNX Runtime's inter-op thread count; 0 lets ONNX
	// Runtime choose. ONNX Runtime uses these threads only in its parallel
	// execution mode, and sessions run in the default sequential one.
	InterOpThreads int
	// BatchSize is the largest number of items sent to a model at once.
	BatchSize int
	// MaxPixels is the largest width*height an image may declare.
	MaxPixels int64
	// MaxImageBytes is the largest encoded image accepted.
	MaxImageBytes int64
	// MaxTextBytes is the largest text accepted (it is truncated to 128
	// tokens anyway; this bounds the tokenizer's work).
	MaxTextBytes int
	// ApplyEXIF turns JPEG, PNG, WebP and TIFF images by their EXIF
	// orientation before encoding.
	ApplyEXIF bool
	// Provider is the ONNX Runtime execution provider: cpu or cuda.
	Provider string
	// ORTLib is the path of libonnxruntime.so; empty means the default
	// search (see package ortlib).
	ORTLib string
	// OptimizedCacheDir is where graphs are kept once optimized and fused,
	// so that later starts load them ready. Empty means "optimized" inside
	// the model directory when that is writable; "off" turns the cache (and
	// with it the fusion) off.
	OptimizedCacheDir string
	// ReplaceMulti2VecClip makes weaviate-mclip provide the module name
	// multi2vec-clip in-process, with Weaviate's multi2vec-clip vectors.
	ReplaceMulti2VecClip bool
	// ClipInferenceAPI is CLIP_INFERENCE_API as set (unused by mclip; see
	// ReplaceMulti2VecClip).
	ClipInferenceAPI string

	// LockFile overrides the model store's lock file path.
	LockFile string
	// HubEndpoint is the Hugging Face hub (mirror) to pull from; empty
	// means the model store's default.
	HubEndpoint string
	// HubToken is the hub's access token (HF_TOKEN, else
	// HUGGING_FACE_HUB_TOKEN).
	HubToken string
	// HubOffline forbids the network (HF_HUB_OFFLINE: 1, true, yes or on;
	// anything else is false, as huggingface_hub reads it).
	HubOffline bool
	// HubCache is huggingface_hub's cache directory (HF_HUB_CACHE); empty
	// means HFHome's "hub", else huggingface_hub's default (see
	// modelstore.HFCacheDir).
	HubCache string
	// HFHome is huggingface_hub's home directory (HF_HOME).
	HFHome string

	// Addr is the host:port `mclip serve` listens on.
	Addr string
	// APIToken, when set, is required on `mclip serve`'s /vectorize.
	APIToken string
	// BatchWait is `mclip serve`'s longest wait to group concurrent
	// requests into one model call; 0 disables it.
	BatchWait time.Duration
	// RequestMemory is `mclip serve`'s memory budget in bytes for the
	// vectorize requests it holds at once.
	RequestMemory int64
	// QueueTimeout is how long a vectorize request may wait for room in
	// RequestMemory.
	QueueTimeout time.Duration
}

// OptimizedCacheOff reports whether OptimizedCacheDir turns the cache off.
func (c Config) OptimizedCacheOff() bool {
	switch strings.ToLower(c.OptimizedCacheDir) {
	case "off", "none", "false", "0":
		return true
	}
	return false
}

// Default returns the defaults.
func Default() Config {
	return Config{
		Model:         catalog.Default,
		Variant:       DefaultVariant,
		BatchSize:     DefaultBatchSize,
		MaxPixels:     DefaultMaxPixels,
		MaxImageBytes: DefaultMaxImageBytes,
		MaxTextBytes:  DefaultMaxTextBytes,
		Provider:      DefaultProvider,
		Addr:          DefaultAddr,
		BatchWait:     DefaultBatchWait,
		RequestMemory: DefaultRequestMemory,
		QueueTimeout:  DefaultQueueTimeout,
	}
}

// FromEnv reads the settings from the process environment.
func FromEnv() (Config, error) { return FromLookup(os.LookupEnv) }

// FromLookup reads the settings through lookup (os.LookupEnv in production)
// and validates them. Every problem is reported, each naming its variable.
func FromLookup(lookup func(string) (string, bool)) (Config, error) {
	c := Default()
	var errs []error
	get := func(name string) (string, bool) {
		v, ok := lookup(name)
		v = strings.TrimSpace(v)
		return v, ok && v != ""
	}
	str := func(name string, dst *string) bool {
		v, ok := get(name)
		if ok {
			*dst = v
		}
		return ok
	}
	integer := func(name string, dst *int) {
		if v, ok := get(name); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: not an integer", name, v))
				return
			}
			*dst = n
		}
	}
	integer64 := func(name string, dst *int64) {
		if v, ok := get(name); ok {
			n, err := ParseSize(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
				return
			}
			*dst = n
		}
	}
	boolean := func(name string, dst *bool) {
		if v, ok := get(name); ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: not a boolean (true/false)", name, v))
				return
			}
			*dst = b
		}
	}
	str(EnvModel, &c.Model)
	str(EnvModelDir, &c.ModelDir)
	str(EnvCacheDir, &c.CacheDir)
	str(EnvVariant, &c.Variant)
	integer(EnvThreads, &c.Threads)
	integer(EnvInterThreads, &c.InterOpThreads)
	integer(EnvBatchSize, &c.BatchSize)
	integer64(EnvMaxPixels, &c.MaxPixels)
	integer64(EnvMaxImageBytes, &c.MaxImageBytes)
	var maxText int64 = int64(c.MaxTextBytes)
	integer64(EnvMaxTextBytes, &maxText)
	c.MaxTextBytes = int(maxText)
	boolean(EnvApplyEXIF, &c.ApplyEXIF)
	str(EnvProvider, &c.Provider)
	str(EnvORTLib, &c.ORTLib)
	str(EnvOptimizedDir, &c.OptimizedCacheDir)
	boolean(EnvReplaceClip, &c.ReplaceMulti2VecClip)
	str(EnvClipInferenceAPI, &c.ClipInferenceAPI)
	str(EnvLockFile, &c.LockFile)
	str(EnvHubEndpoint, &c.HubEndpoint)
	if !str(EnvHubToken, &c.HubToken) {
		str(EnvHubOldToken, &c.HubToken)
	}
	if v, ok := get(EnvHubOffline); ok {
		c.HubOffline = isTrue(v)
	}
	str(EnvHubCache, &c.HubCache)
	str(EnvHFHome, &c.HFHome)
	str(EnvAddr, &c.Addr)
	str(EnvAPIToken, &c.APIToken)
	if v, ok := get(EnvBatchWait); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: not a duration (like 2ms; 0 disables)", EnvBatchWait, v))
		} else {
			c.BatchWait = d
		}
	}
	integer64(EnvRequestMemory, &c.RequestMemory)
	if v, ok := get(EnvQueueTimeout); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: not a duration (like 30s)", EnvQueueTimeout, v))
		} else {
			c.QueueTimeout = d
		}
	}
	c.Variant = strings.ToLower(c.Variant)
	c.Provider = strings.ToLower(c.Provider)
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("invalid mclip settings: %w", errors.Join(errs...))
	}
	return c, nil
}

// Validate checks the values, naming the environment variable of each bad one.
func (c Config) Validate() error {
	var errs []error
	if _, err := catalog.Lookup(c.Model); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvModel, err))
	}
	switch c.Variant {
	case "fp32", "int8", "fp16", "auto":
	default:
		errs = append(errs, fmt.Errorf("%s=%q: want fp32, int8, fp16 or auto", EnvVariant, c.Variant))
	}
	switch c.Provider {
	case "cpu", "cuda":
	default:
		errs = append(errs, fmt.Errorf("%s=%q: want cpu or cuda", EnvProvider, c.Provider))
	}
	if c.Threads < 0 || c.Threads > 1024 {
		errs = append(errs, fmt.Errorf("%s=%d: want 0 (one per CPU) to 1024", EnvThreads, c.Threads))
	}
	if c.InterOpThreads < 0 || c.InterOpThreads > 1024 {
		errs = append(errs, fmt.Errorf("%s=%d: want 0 (default) to 1024", EnvInterThreads, c.InterOpThreads))
	}
	if c.BatchSize < 1 || c.BatchSize > 4096 {
		errs = append(errs, fmt.Errorf("%s=%d: want 1 to 4096", EnvBatchSize, c.BatchSize))
	}
	if c.MaxPixels < 1 {
		errs = append(errs, fmt.Errorf("%s=%d: want a positive pixel count", EnvMaxPixels, c.MaxPixels))
	}
	if c.MaxImageBytes < 1 {
		errs = append(errs, fmt.Errorf("%s=%d: want a positive byte count", EnvMaxImageBytes, c.MaxImageBytes))
	}
	if c.MaxTextBytes < 1 {
		errs = append(errs, fmt.Errorf("%s=%d: want a positive byte count", EnvMaxTextBytes, c.MaxTextBytes))
	}
	if c.RequestMemory < 1 {
		errs = append(errs, fmt.Errorf("%s=%d: want a positive byte count (like 1GiB)", EnvRequestMemory, c.RequestMemory))
	}
	if c.QueueTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%s=%v: want a positive duration (like 30s)", EnvQueueTimeout, c.QueueTimeout))
	}
	return errors.Join(errs...)
}

// isTrue reads a switch the way huggingface_hub does: 1, true, yes and on
// (any case) are true, anything else false.
func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// ParseSize parses a non-negative integer with an optional binary suffix
// (KiB, MiB, GiB; also K, M, G) or underscores.
func ParseSize(s string) (int64, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), "_", "")
	mult := int64(1)
	for _, suf := range []struct {
		s string
		m int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}} {
		if strings.HasSuffix(s, suf.s) {
			s, mult = strings.TrimSuffix(s, suf.s), suf.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("not a non-negative integer (suffixes KiB, MiB, GiB allowed)")
	}
	if n > (1<<62)/mult {
		return 0, errors.New("too large")
	}
	return n * mult, nil
}
