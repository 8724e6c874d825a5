package main

import (
	"io/fs"
	"maps"
	"strings"
	"testing"
)

func TestGCDefaults(t *testing.T) {
	t.Parallel()
	v2, v1 := cgroupMemoryFiles[0], cgroupMemoryFiles[1]
	for _, tc := range []struct {
		name  string
		env   map[string]string
		files map[string]string
		want  gcSettings
	}{
		{"no container", nil, nil, gcSettings{percent: 400, procs: 1}},
		{"cgroup v2 limit", nil, map[string]string{v2: "67108864\n"}, gcSettings{percent: 400, limit: 64 << 20 / 5 * 4, procs: 1}},
		{"cgroup v2 unlimited", nil, map[string]string{v2: "max\n", v1: "67108864\n"}, gcSettings{percent: 400, procs: 1}},
		{"cgroup v1 limit", nil, map[string]string{v1: "134217728\n"}, gcSettings{percent: 400, limit: 128 << 20 / 5 * 4, procs: 1}},
		{"cgroup v1 unlimited", nil, map[string]string{v1: "9223372036854771712\n"}, gcSettings{percent: 400, procs: 1}},
		{"unreadable limit", nil, map[string]string{v2: "lots"}, gcSettings{percent: 400, procs: 1}},
		{"GOGC set", map[string]string{"GOGC": "100"}, map[string]string{v2: "67108864"}, gcSettings{limit: 64 << 20 / 5 * 4, procs: 1}},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "56MiB"}, map[string]string{v2: "67108864"}, gcSettings{percent: 400, procs: 1}},
		{"both set", map[string]string{"GOGC": "off", "GOMEMLIMIT": "56MiB"}, map[string]string{v2: "67108864"}, gcSettings{procs: 1}},
		{"all set", map[string]string{"GOGC": "off", "GOMEMLIMIT": "56MiB", "GOMAXPROCS": "4"}, map[string]string{v2: "67108864"}, gcSettings{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			readFile := func(name string) ([]byte, error) {
				if s, ok := tc.files[name]; ok {
					return []byte(s), nil
				}
				return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
			}
			got := gcDefaults(func(k string) string { return tc.env[k] }, readFile)
			if got != tc.want {
				t.Errorf("gcDefaults = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestGCSettingsInTheProcess runs the real main and reads back, from its
// start-up line, the collector settings the runtime ended up with.
func TestGCSettingsInTheProcess(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"defaults", nil, []string{`"gogc":400`, `"gomaxprocs":1`}},
		{"operator's choice", map[string]string{"GOGC": "150", "GOMEMLIMIT": "40MiB", "GOMAXPROCS": "2"}, []string{`"gogc":150`, `"gomemlimit":"40MiB"`, `"gomaxprocs":2`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sl, ipr := doubles(t)
			env := baseEnv(sl, ipr, freeAddr(t))
			maps.Copy(env, tc.env)
			_, logs := startMain(t, env)
			eventually(t, "the start-up line", func() bool { return strings.Contains(logs.String(), "sessionbot starting") })
			var line string
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "sessionbot starting") {
					line = l
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("the start-up line lacks %q:\n%s", w, line)
				}
			}
		})
	}
}
