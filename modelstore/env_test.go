package modelstore_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	ms "github.com/mclip-go/mclip/modelstore"
)

func TestOptionsFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want ms.Options
		err  string
	}{
		{name: "nothing set", want: ms.Options{Variant: ms.VariantFP32}},
		{
			name: "everything",
			env: map[string]string{
				"MCLIP_MODEL_DIR": "/m", "MCLIP_CACHE_DIR": "/c", "MCLIP_VARIANT": "Auto", "MCLIP_MODELS_LOCK": "/l",
				"HF_ENDPOINT": "https://mirror.example", "HF_TOKEN": " hf_x ", "HF_HUB_OFFLINE": "1",
			},
			want: ms.Options{ModelDir: "/m", CacheDir: "/c", Variant: ms.VariantAuto, LockFile: "/l",
				Endpoint: "https://mirror.example", Token: "hf_x", Offline: true},
		},
		{name: "older token variable", env: map[string]string{"HUGGING_FACE_HUB_TOKEN": "hf_old", "HF_HUB_OFFLINE": "false"},
			want: ms.Options{Variant: ms.VariantFP32, Token: "hf_old"}},
		{name: "offline spelled true", env: map[string]string{"HF_HUB_OFFLINE": "TRUE"}, want: ms.Options{Variant: ms.VariantFP32, Offline: true}},
		{name: "bad variant", env: map[string]string{"MCLIP_VARIANT": "bf16"}, err: "MCLIP_VARIANT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"MCLIP_MODEL_DIR", "MCLIP_CACHE_DIR", "MCLIP_VARIANT", "MCLIP_MODELS_LOCK", "HF_ENDPOINT", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE"} {
				t.Setenv(k, tc.env[k])
			}
			got, err := ms.OptionsFromEnv()
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
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
			t.Setenv("MCLIP_CACHE_DIR", tc.mclip)
			t.Setenv("XDG_CACHE_HOME", tc.xdg)
			t.Setenv("HOME", tc.home)
			got, err := ms.DefaultCacheDir()
			require.NoError(t, err)
			assert.Equal(t, filepath.FromSlash(tc.want), got)
			s, err := ms.Open(ms.Options{})
			require.NoError(t, err)
			assert.Equal(t, filepath.Join(got, "models", "main"), s.Dir().Root)
			assert.Equal(t, filepath.Join(got, "models", "main", ms.LockFileName), s.LockPath())
		})
	}
}
