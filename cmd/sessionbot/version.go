package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// version is stamped at build time with -ldflags "-X main.version=...", as
// the Dockerfile does; without a stamp, init takes it from the build's own
// information, so a binary from go install or go build says what it is.
var version = "dev"

func init() {
	info, ok := debug.ReadBuildInfo()
	version = readBuild(version, info, ok).version
}

// build is what a binary knows of its own making.
type build struct {
	version   string // the -ldflags stamp, the module version, or "dev"
	revision  string // the VCS commit, when go build recorded it
	time      string // the commit's time
	modified  bool   // built from a tree with uncommitted changes
	goVersion string
}

// readBuild prefers the -ldflags stamp, then the module version that go
// install (module@version) or go build (a pseudo-version from the VCS)
// recorded, then "dev"; the VCS details come with it when recorded.
func readBuild(stamp string, info *debug.BuildInfo, ok bool) build {
	b := build{version: stamp, goVersion: runtime.Version()}
	if !ok || info == nil {
		return b
	}
	if info.GoVersion != "" {
		b.goVersion = info.GoVersion
	}
	if stamp == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.revision = s.Value
		case "vcs.time":
			b.time = s.Value
		case "vcs.modified":
			b.modified = s.Value == "true"
		}
	}
	return b
}

// String is what sessionbot version prints: the version and Go's on the
// first line, then the commit when the build recorded one.
func (b build) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "sessionbot %s (%s)\n", b.version, b.goVersion)
	if b.revision != "" {
		fmt.Fprintf(&s, "commit %s", b.revision)
		if b.time != "" {
			fmt.Fprintf(&s, " of %s", b.time)
		}
		if b.modified {
			s.WriteString(", with uncommitted changes")
		}
		s.WriteByte('\n')
	}
	return s.String()
}

// currentBuild describes this binary.
func currentBuild() build {
	info, ok := debug.ReadBuildInfo()
	b := readBuild(version, info, ok)
	b.version = version // already resolved by init
	return b
}
