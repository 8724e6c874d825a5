//go:build race

package main

// raceDetector: memory readings mean little under -race, which multiplies
// a process's memory.
const raceDetector = true
