//go:build race

package main

// raceEnabled: this test binary runs under the race detector, so the
// exporter it drives is built with -race too.
const raceEnabled = true
