package config_test

// The collectors declare their names, defaults, options and back ends in
// the collector package (collector.register, from each collector's file),
// which imports this one. Importing it from this external test package
// makes the go tool build it against this package's test variant, so its
// registrations run before the package's own tests do, as they run before
// main in the binary.
import _ "github.com/defender-exporter/defender_exporter/collector"
