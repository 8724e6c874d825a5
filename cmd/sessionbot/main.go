// Command sessionbot lets a team reset IPRoyal residential sticky sessions
// from Slack, with an audit trail. See README.md.
package main

import (
	"context"
	"os"
)

func main() {
	tuneGC(os.Getenv)
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		os.Exit(exitCode(err))
	}
}
