// Command generator writes the Grafana dashboards of defender_exporter,
// dashboards/*.json, with Grafana's foundation SDK. The JSON is generated,
// not edited: change the Go code here and run `make dashboards`.
//
//	go run . DIR          write DIR/defender-*.json
//	go run . -check DIR   exit 1 if DIR/defender-*.json differ from what would be written
//
// It is a Go module of its own so that the exporter's binary and go.mod do
// not carry the SDK.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// dashboards are the files written, by name.
var dashboards = map[string]func() *board{
	"defender-overview.json": overview,
	"defender-tenant.json":   tenant,
	"defender-exporter.json": exporter,
}

func main() {
	check := flag.Bool("check", false, "compare the files in DIR with what would be written instead of writing them")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [-check] DIR\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	files, err := renderAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "generator:", err)
		os.Exit(1)
	}
	dir := flag.Arg(0)
	if *check {
		stale, err := compare(dir, files)
		if err != nil {
			fmt.Fprintln(os.Stderr, "generator:", err)
			os.Exit(1)
		}
		if len(stale) > 0 {
			for _, name := range stale {
				fmt.Fprintf(os.Stderr, "generator: %s differs from what dashboards/generator writes\n", filepath.Join(dir, name))
			}
			fmt.Fprintln(os.Stderr, "generator: edit dashboards/generator, not the JSON, and run make dashboards")
			os.Exit(1)
		}
		return
	}
	if err := write(dir, files); err != nil {
		fmt.Fprintln(os.Stderr, "generator:", err)
		os.Exit(1)
	}
}

// renderAll returns the JSON of every dashboard, by file name.
func renderAll() (map[string][]byte, error) {
	out := map[string][]byte{}
	for name, build := range dashboards {
		data, err := build().render()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = data
	}
	return out, nil
}

func write(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range sortedNames(files) {
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// compare returns the names of the files in dir that are missing or differ
// from files.
func compare(dir string, files map[string][]byte) ([]string, error) {
	var stale []string
	for _, name := range sortedNames(files) {
		have, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			stale = append(stale, name)
			continue
		}
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(have, files[name]) {
			stale = append(stale, name)
		}
	}
	return stale, nil
}

func sortedNames(files map[string][]byte) []string {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
