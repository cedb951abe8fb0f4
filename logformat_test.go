package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

// logfmtTS finds the ts key of a logfmt line and its value.
var logfmtTS = regexp.MustCompile(`(?:^| )ts=(\S+)`)

// logfmtLayout is the order of the keys every logfmt line starts with.
var logfmtLayout = regexp.MustCompile(`^level=\S+ ts=\S+ caller=\S+ msg=`)

// TestLogLinesShareOneFormat: the exporter's own lines and the web
// server's (exporter-toolkit, through the slog bridge) carry their time
// under the same key, ts, in the same format (RFC 3339, UTC), in logfmt
// and in JSON.
func TestLogLinesShareOneFormat(t *testing.T) {
	for _, format := range []string{"logfmt", "json"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			e := startExporter(t, "--config.file="+offlineConfig(t, dir), "--log.format="+format)
			// One line of each source: the web server's and the exporter's.
			waitLog(t, e, "Listening on")
			waitLog(t, e, "configuration loaded")
			lines := strings.Split(strings.TrimSpace(e.log.String()), "\n")
			var sawToolkit bool
			for _, line := range lines {
				ts, hasTime := logTime(t, format, line)
				if hasTime {
					t.Errorf("line with a time key: %s", line)
				}
				parsed, err := time.Parse(time.RFC3339Nano, ts)
				if err != nil || parsed.Location() != time.UTC {
					t.Errorf("ts %q is not an RFC 3339 UTC time (%v): %s", ts, err, line)
				}
				if format == "logfmt" && !logfmtLayout.MatchString(line) {
					t.Errorf("line not laid out as level, ts, caller, msg: %s", line)
				}
				sawToolkit = sawToolkit || strings.Contains(line, "Listening on")
			}
			if !sawToolkit {
				t.Errorf("no web server line among:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
}

// logTime returns a line's ts value and whether it also has a time key.
func logTime(t *testing.T, format, line string) (ts string, hasTime bool) {
	t.Helper()
	if format == "json" {
		var fields map[string]any
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			t.Errorf("not a JSON line (%v): %s", err, line)
			return "", false
		}
		_, hasTime = fields["time"]
		ts, _ = fields["ts"].(string)
		return ts, hasTime
	}
	if m := logfmtTS.FindStringSubmatch(line); m != nil {
		ts = m[1]
	}
	return ts, regexp.MustCompile(`(?:^| )time=`).MatchString(line)
}
