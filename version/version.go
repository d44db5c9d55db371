// Package version says which mclip this is: the release or `git describe`
// string and the commit, set at link time by the Makefile, else read from the
// Go build information.
package version

import (
	"fmt"
	"runtime/debug"
)

// Version and Commit are set by the Makefile:
//
//	-ldflags "-X github.com/mclip-go/mclip/version.Version=$(git describe --always --dirty)
//	          -X github.com/mclip-go/mclip/version.Commit=$(git rev-parse HEAD)"
var (
	Version = ""
	Commit  = ""
)

// Info is this build's identity.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"go"`
}

// Get returns this build's identity.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	return resolve(Version, Commit, bi, ok)
}

// String is the one-line form: "v0.1.0-3-gabc1234 (commit abc1234..., go1.26.0)".
func (i Info) String() string {
	return fmt.Sprintf("%s (commit %s, %s)", i.Version, i.Commit, i.GoVersion)
}

// resolve prefers the link-time values; without them (a plain `go build` or
// `go install`) it takes the module version and the VCS stamp of the build.
func resolve(version, commit string, bi *debug.BuildInfo, ok bool) Info {
	info := Info{Version: version, Commit: commit, GoVersion: "unknown"}
	if ok && bi != nil {
		info.GoVersion = bi.GoVersion
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		if info.Commit == "" {
			var rev, modified string
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.modified":
					modified = s.Value
				}
			}
			if rev != "" && modified == "true" {
				rev += "-dirty"
			}
			info.Commit = rev
		}
	}
	if info.Version == "" {
		info.Version = "devel"
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	return info
}
