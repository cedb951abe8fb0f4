//go:build !race

package main

// raceEnabled: this test binary has no race detector, which also means it
// may be built without cgo (-race needs it), so the exporter is built
// without -race.
const raceEnabled = false
