package modelstore_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mclip-go/mclip/config"
	ms "github.com/mclip-go/mclip/modelstore"
)

// settings reads env through package config, the only reader of the
// environment.
func settings(env map[string]string) (config.Config, error) {
	return config.FromLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

func TestOptionsFor(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/u")
	const hfDefault = "/home/u/.cache/huggingface/hub"
	for _, tc := range []struct {
		name string
		env  map[string]string
		want ms.Options
		err  string
	}{
		{name: "nothing set", want: ms.Options{Variant: ms.VariantFP32, HFCache: hfDefault}},
		{
			name: "everything",
			env: map[string]string{
				"MCLIP_MODEL_DIR": "/m", "MCLIP_CACHE_DIR": "/c", "MCLIP_VARIANT": "Auto", "MCLIP_MODELS_LOCK": "/l",
				"HF_ENDPOINT": "https://mirror.example", "HF_TOKEN": " hf_x ", "HF_HUB_OFFLINE": "1",
				"HF_HUB_CACHE": "/hf/hub", "HF_HOME": "/hf-home",
			},
			want: ms.Options{ModelDir: "/m", CacheDir: "/c", Variant: ms.VariantAuto, LockFile: "/l",
				Endpoint: "https://mirror.example", Token: "hf_x", Offline: true, HFCache: "/hf/hub"},
		},
		{name: "older token variable", env: map[string]string{"HUGGING_FACE_HUB_TOKEN": "hf_old", "HF_HUB_OFFLINE": "false"},
			want: ms.Options{Variant: ms.VariantFP32, Token: "hf_old", HFCache: hfDefault}},
		{name: "offline spelled true", env: map[string]string{"HF_HUB_OFFLINE": "TRUE"}, want: ms.Options{Variant: ms.VariantFP32, Offline: true, HFCache: hfDefault}},
		{name: "HF_HOME", env: map[string]string{"HF_HOME": "/hf-home"}, want: ms.Options{Variant: ms.VariantFP32, HFCache: "/hf-home/hub"}},
		{name: "bad variant", env: map[string]string{"MCLIP_VARIANT": "bf16"}, err: "MCLIP_VARIANT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := settings(tc.env)
			var got ms.Options
			if err == nil {
				got, err = ms.OptionsFor(cfg)
			}
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	t.Run("a variant set after reading the environment is checked too", func(t *testing.T) {
		cfg := config.Default()
		cfg.Variant = "bf16"
		_, err := ms.OptionsFor(cfg)
		assert.ErrorContains(t, err, "MCLIP_VARIANT")
	})
}

func TestDefaultCacheDir(t *testing.T) {
	for _, tc := range []struct {
		name, mclip, xdg, home, want string
	}{
		{"MCLIP_CACHE_DIR wins", "/mc", "/xdg", "/home/u", "/mc"},
		{"XDG_CACHE_HOME", "", "/xdg", "/home/u", "/xdg/mclip"},
		{"relative XDG_CACHE_HOME is ignored", "", "rel", "/home/u", "/home/u/.cache/mclip"},
		{"home", "", "", "/home/u", "/home/u/.cache/mclip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("XDG_CACHE_HOME", tc.xdg)
			t.Setenv("HOME", tc.home)
			cfg, err := settings(map[string]string{"MCLIP_CACHE_DIR": tc.mclip})
			require.NoError(t, err)
			opts, err := ms.OptionsFor(cfg)
			require.NoError(t, err)
			got := filepath.FromSlash(tc.want)
			if tc.mclip == "" {
				def, err := ms.DefaultCacheDir()
				require.NoError(t, err)
				assert.Equal(t, got, def)
			}
			s, err := ms.Open(opts)
			require.NoError(t, err)
			assert.Equal(t, filepath.Join(got, "models", "main"), s.Dir().Root)
			assert.Equal(t, filepath.Join(got, "models", "main", ms.LockFileName), s.LockPath())
		})
	}
}

func TestHFCacheDir(t *testing.T) {
	for _, tc := range []struct {
		name, hubCache, hfHome, xdg, want string
	}{
		{"HF_HUB_CACHE wins", "/hc", "/hh", "/xdg", "/hc"},
		{"HF_HOME", "", "/hh", "/xdg", "/hh/hub"},
		{"XDG_CACHE_HOME", "", "", "/xdg", "/xdg/huggingface/hub"},
		{"relative XDG_CACHE_HOME is ignored", "", "", "rel", "/home/u/.cache/huggingface/hub"},
		{"home", "", "", "", "/home/u/.cache/huggingface/hub"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("XDG_CACHE_HOME", tc.xdg)
			t.Setenv("HOME", "/home/u")
			got, err := ms.HFCacheDir(tc.hubCache, tc.hfHome)
			require.NoError(t, err)
			assert.Equal(t, filepath.FromSlash(tc.want), got)
		})
	}
}
