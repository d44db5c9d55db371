package version

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestResolve(t *testing.T) {
	vcs := func(rev, modified string) *debug.BuildInfo {
		return &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}}
	}
	tests := []struct {
		name            string
		version, commit string
		bi              *debug.BuildInfo
		ok              bool
		want            Info
	}{
		{"link-time values win", "v0.2.0-4-gabcdef0-dirty", "abcdef0123", vcs("fff", "false"), true,
			Info{Version: "v0.2.0-4-gabcdef0-dirty", Commit: "abcdef0123", GoVersion: "go1.26.0"}},
		{"vcs stamp", "", "", vcs("0123456789", "false"), true,
			Info{Version: "devel", Commit: "0123456789", GoVersion: "go1.26.0"}},
		{"vcs stamp, modified", "", "", vcs("0123456789", "true"), true,
			Info{Version: "devel", Commit: "0123456789-dirty", GoVersion: "go1.26.0"}},
		{"go install of a release", "", "", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "v1.0.0"}}, true,
			Info{Version: "v1.0.0", Commit: "unknown", GoVersion: "go1.26.1"}},
		{"no build info", "", "", nil, false,
			Info{Version: "devel", Commit: "unknown", GoVersion: "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, resolve(tt.version, tt.commit, tt.bi, tt.ok))
		})
	}
}

func TestString(t *testing.T) {
	assert.Equal(t, "v1 (commit abc, go1.26.0)", Info{Version: "v1", Commit: "abc", GoVersion: "go1.26.0"}.String())
}

func TestGetUsesLinkTimeValues(t *testing.T) {
	old, oldC := Version, Commit
	t.Cleanup(func() { Version, Commit = old, oldC })
	Version, Commit = "v9.9.9-test", "cafe"
	got := Get()
	assert.Equal(t, "v9.9.9-test", got.Version)
	assert.Equal(t, "cafe", got.Commit)
}
