//go:build pprof

// Built only with -tags pprof (go run ./cmd/bench -pprof does): the
// runtime's profiles on PPROF_ADDR, for measuring. Never in the image.
package main

import (
	"log"
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if addr := os.Getenv("PPROF_ADDR"); addr != "" {
		go func() { log.Println(http.ListenAndServe(addr, nil)) }()
	}
}
