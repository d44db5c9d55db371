package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/mclip-go/mclip/catalog"
	"github.com/stretchr/testify/require"
)

func lookupOf(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestFromLookup(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    func(c *Config)
		wantErr []string
	}{
		{name: "defaults", env: map[string]string{}, want: func(c *Config) {}},
		{name: "all set", env: map[string]string{
			EnvModelDir: "/m", EnvVariant: "INT8", EnvThreads: "2", EnvInterThreads: "1", EnvBatchSize: "8",
			EnvMaxPixels: "1000", EnvMaxImageBytes: "2MiB", EnvMaxTextBytes: "4K", EnvApplyEXIF: "true",
			EnvProvider: "CUDA", EnvORTLib: "/lib/libonnxruntime.so", EnvCacheDir: "/c", EnvOptimizedDir: "/o",
		}, want: func(c *Config) {
			c.ModelDir, c.Variant, c.Threads, c.InterOpThreads, c.BatchSize = "/m", "int8", 2, 1, 8
			c.MaxPixels, c.MaxImageBytes, c.MaxTextBytes, c.ApplyEXIF = 1000, 2<<20, 4<<10, true
			c.Provider, c.ORTLib, c.CacheDir, c.OptimizedCacheDir = "cuda", "/lib/libonnxruntime.so", "/c", "/o"
		}},
		{name: "multi2vec-clip replaced", env: map[string]string{EnvReplaceClip: "true", EnvClipInferenceAPI: "http://clip:8080"},
			want: func(c *Config) { c.ReplaceMulti2VecClip, c.ClipInferenceAPI = true, "http://clip:8080" }},
		{name: "bad replace switch", env: map[string]string{EnvReplaceClip: "yes please"}, wantErr: []string{EnvReplaceClip + `="yes please"`}},
		{name: "model store and hub", env: map[string]string{
			EnvLockFile: "/l", EnvHubEndpoint: "https://mirror.example", EnvHubToken: " hf_x ", EnvHubOffline: "1",
		}, want: func(c *Config) {
			c.LockFile, c.HubEndpoint, c.HubToken, c.HubOffline = "/l", "https://mirror.example", "hf_x", true
		}},
		{name: "Hugging Face cache", env: map[string]string{EnvHubCache: "/hf/hub", EnvHFHome: "/hf"},
			want: func(c *Config) { c.HubCache, c.HFHome = "/hf/hub", "/hf" }},
		{name: "older token variable", env: map[string]string{EnvHubOldToken: "hf_old", EnvHubOffline: "false"},
			want: func(c *Config) { c.HubToken = "hf_old" }},
		{name: "HF_TOKEN before the older name", env: map[string]string{EnvHubToken: "hf_new", EnvHubOldToken: "hf_old"},
			want: func(c *Config) { c.HubToken = "hf_new" }},
		{name: "offline spelled true", env: map[string]string{EnvHubOffline: "TRUE"}, want: func(c *Config) { c.HubOffline = true }},
		{name: "offline: anything else is false", env: map[string]string{EnvHubOffline: "maybe"}, want: func(c *Config) {}},
		{name: "serve settings", env: map[string]string{EnvAddr: ":8077", EnvAPIToken: " tok ", EnvBatchWait: "0"},
			want: func(c *Config) { c.Addr, c.APIToken, c.BatchWait = ":8077", "tok", 0 }},
		{name: "request memory and queue timeout", env: map[string]string{EnvRequestMemory: "2GiB", EnvQueueTimeout: "45s"},
			want: func(c *Config) { c.RequestMemory, c.QueueTimeout = 2<<30, 45*time.Second }},
		{name: "bad request memory", env: map[string]string{EnvRequestMemory: "lots"}, wantErr: []string{EnvRequestMemory + `="lots"`, "not a non-negative integer"}},
		{name: "zero request memory", env: map[string]string{EnvRequestMemory: "0"}, wantErr: []string{EnvRequestMemory + "=0", "want a positive byte count"}},
		{name: "bad queue timeout", env: map[string]string{EnvQueueTimeout: "a while"}, wantErr: []string{EnvQueueTimeout + `="a while"`, "not a duration"}},
		{name: "zero queue timeout", env: map[string]string{EnvQueueTimeout: "0s"}, wantErr: []string{EnvQueueTimeout + "=0s", "want a positive duration"}},
		{name: "bad batch wait", env: map[string]string{EnvBatchWait: "soon"}, wantErr: []string{EnvBatchWait + `="soon"`, "not a duration"}},
		{name: "optimized cache off", env: map[string]string{EnvOptimizedDir: "off"}, want: func(c *Config) { c.OptimizedCacheDir = "off" }},
		{name: "blank values keep defaults", env: map[string]string{EnvVariant: "  ", EnvBatchSize: ""}, want: func(c *Config) {}},
		{name: "bad values each named", env: map[string]string{
			EnvVariant: "bf16", EnvThreads: "two", EnvBatchSize: "0", EnvMaxPixels: "-5", EnvApplyEXIF: "maybe", EnvProvider: "tpu",
		}, wantErr: []string{EnvVariant + `="bf16"`, EnvThreads + `="two"`, EnvBatchSize + "=0", EnvMaxPixels + `="-5"`, EnvApplyEXIF, EnvProvider + `="tpu"`}},
		{name: "overflowing size", env: map[string]string{EnvMaxImageBytes: "99999999999GiB"}, wantErr: []string{EnvMaxImageBytes, "too large"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromLookup(lookupOf(tt.env))
			if tt.wantErr != nil {
				require.Error(t, err)
				for _, s := range tt.wantErr {
					assert.Contains(t, err.Error(), s)
				}
				return
			}
			require.NoError(t, err)
			want := Default()
			tt.want(&want)
			assert.Equal(t, want, got)
		})
	}
}

func TestOptimizedCacheOff(t *testing.T) {
	for setting, off := range map[string]bool{"": false, "off": true, "OFF": true, "none": true, "false": true, "0": true, "/var/cache/mclip": false} {
		assert.Equal(t, off, Config{OptimizedCacheDir: setting}.OptimizedCacheOff(), "%q", setting)
	}
}

func TestModelSetting(t *testing.T) {
	tests := []struct {
		name, value string
		want        string
		wantErr     []string
	}{
		{"unset is the default tag", "", catalog.Default, nil},
		{"a known tag", catalog.CLIPB32, catalog.CLIPB32, nil},
		{"a known tag this build cannot run yet is a valid setting", catalog.MetaCLIP2B32, catalog.MetaCLIP2B32, nil},
		{"unknown lists the known tags", "clip-ViT-L-14", "", []string{EnvModel + `: unknown model "clip-ViT-L-14"`, catalog.MultilingualB32, catalog.OpenCLIPB32}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromLookup(lookupOf(map[string]string{EnvModel: tt.value}))
			if tt.wantErr != nil {
				require.Error(t, err)
				for _, s := range tt.wantErr {
					assert.Contains(t, err.Error(), s)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Model)
		})
	}
	cfg := Default()
	cfg.Model = ""
	assert.NoError(t, cfg.Validate(), "an empty Model is the default")
}
