package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"
)

var (
	huntingKeys = []string{"api", "queries"}
	queryKeys   = []string{"name", "help", "interval", "timespan", "query", "labels", "value"}
	huntingAPIs = []string{"graph", "mde"}
)

// Defender's advanced-hunting quota per tenant, shared by every query (https://learn.microsoft.com/defender-xdr/advanced-hunting-limits).
const (
	huntingCallsPerHour   = 1500
	huntingCallsPerMinute = 45
	// Hunting tables lag real time by minutes, so running a query more often buys nothing; and the
	// per-minute budget check counts one call per query, which holds only from 1m up.
	minHuntingInterval = time.Minute
)

// Legacy (pre-UTF-8) Prometheus names: they work in every PromQL and every tool without quoting.
var (
	metricNamePartRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	labelNameRE      = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// LabelName turns a KQL result column into a Prometheus label name: Kusto columns are CamelCase,
// Prometheus labels snake_case. SensorHealthState → sensor_health_state, DeviceId → device_id,
// OSPlatform → os_platform, IPv4Address → ipv4_address, count_ → count_. It only changes case and inserts underscores; a column
// whose result is still not a valid label name (a space, say) is rejected by the config check, and
// the fix is a project-rename in the query.
func LabelName(column string) string {
	rs := []rune(column)
	var b strings.Builder
	for i, r := range rs {
		if !unicode.IsUpper(r) {
			b.WriteRune(r)
			continue
		}
		if i > 0 {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			// One lower-case letter and a digit after an acronym is a version, not a word:
			// IPv4, IPv6, TLSv1 stay whole.
			version := nextLower && i+2 < len(rs) && unicode.IsDigit(rs[i+2])
			// A new word starts after a lower-case letter or digit (deviceId), or at the last
			// capital of an acronym that is followed by a word (OSPlatform → os_platform).
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower && !version) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func queryHint(key string) string {
	switch key {
	case "metric_name":
		return "use name (the metric is defender_hunting_<name>)"
	case "key_labels":
		return "use labels"
	case "values", "value_column":
		return "use value (one numeric column)"
	}
	return ""
}

// hunting decodes the hunting section; at is where the section starts, for budget errors that
// concern all queries together.
func (d *decoder) hunting(n *yaml.Node, path string, at pos) Hunting {
	h := Hunting{API: "graph"}
	pairs, ok := d.mapping(n, path, huntingKeys, noHint)
	if !ok {
		return h
	}
	var queriesNode *yaml.Node
	var apiAt pos
	for _, p := range pairs {
		switch p.key {
		case "api":
			v, ok := d.scalar(p.v, p.path, "graph or mde")
			if !ok {
				continue
			}
			apiAt = d.posOf(d.resolve(p.v), p.path)
			if !contains(huntingAPIs, v) {
				d.errAt(apiAt, nil, "%q is not a hunting API: use graph (Microsoft Graph runHuntingQuery, permission ThreatHunting.Read.All) or mde (advancedqueries/run, AdvancedQuery.Read.All)", truncate(v))
				continue
			}
			h.API = v
		case "queries":
			queriesNode = p.v
		}
	}
	items, _ := d.sequence(queriesNode, joinPath(path, "queries"), "queries")
	names := map[string]pos{}
	for i, it := range items {
		qpath := fmt.Sprintf("%s[%d]", joinPath(path, "queries"), i)
		if q, ok := d.query(it, qpath, h.API, apiAt, names); ok {
			h.Queries = append(h.Queries, q)
		}
	}
	return h
}

func (d *decoder) query(n *yaml.Node, path, api string, apiAt pos, names map[string]pos) (HuntingQuery, bool) {
	var q HuntingQuery
	var valueAt pos
	before := len(d.errs)
	qat := d.posOf(n, path)
	pairs, ok := d.mapping(n, path, queryKeys, queryHint)
	if !ok {
		return q, false
	}
	has := map[string]bool{}
	labelCols := map[string]bool{}
	for _, p := range pairs {
		has[p.key] = true
		at := d.posOf(d.resolve(p.v), p.path)
		switch p.key {
		case "name":
			v, ok := d.scalar(p.v, p.path, "a name")
			switch {
			case !ok:
			case !metricNamePartRE.MatchString(v):
				d.errAt(at, nil, "%q is not a valid metric name part: use letters, digits and _ (not starting with a digit), e.g. devices_by_sensor_health", truncate(v))
			case reservedHuntingNames[v]:
				d.errAt(at, nil, "%q is reserved: defender_hunting_%s is one of the exporter's own per-query metrics; choose another name", v, v)
			case names[v] != (pos{}):
				d.errAt(at, nil, "%q is already used by the query on %s: names must be unique (each is the metric defender_hunting_<name>)", v, where(names[v]))
			default:
				names[v] = at
				q.Name = v
			}
		case "help":
			if v, ok := d.scalar(p.v, p.path, "a sentence"); ok {
				if strings.TrimSpace(v) == "" {
					d.errAt(at, nil, "is empty: write what the metric counts; it becomes the HELP text")
				}
				q.Help = v
			}
		case "interval":
			if v, ok := d.duration(p.v, p.path); ok {
				if v < minHuntingInterval {
					d.errAt(at, nil, "%s is too short: hunting queries run at most once a minute (Defender allows %d hunting calls a minute per tenant, shared by all queries); use 1m or more", formatDuration(v), huntingCallsPerMinute)
					continue
				}
				q.Interval = v
			}
		case "timespan":
			v, ok := d.scalar(p.v, p.path, "an ISO 8601 duration or interval")
			if !ok || v == "" {
				continue
			}
			switch {
			case api == "mde":
				d.errAt(at, nil, "timespan is not supported by the mde hunting API (%s): filter on Timestamp in the query instead, or use api: graph", where(apiAt))
			case !validTimespan(v):
				d.errAt(at, nil, "%q is not an ISO 8601 duration or interval: use e.g. P1D, PT12H, P30D, 2024-02-01T08:00:00Z/P30D or 2024-02-01T08:00:00Z/2024-02-15T08:00:00Z", truncate(v))
			default:
				q.Timespan = v
			}
		case "query":
			if v, ok := d.scalar(p.v, p.path, "a KQL query"); ok {
				if strings.TrimSpace(v) == "" {
					d.errAt(at, nil, "is empty: write the KQL query to run")
				}
				q.Query = v
			}
		case "labels":
			q.Labels = d.labels(p.v, p.path, labelCols)
		case "value":
			if v, ok := d.scalar(p.v, p.path, "a column name"); ok {
				if v == "" {
					d.errAt(at, nil, "is empty: name the numeric result column that becomes the value, e.g. count_")
				}
				q.Value = v
				valueAt = at
			}
		}
	}
	for _, req := range []struct{ key, why string }{
		{"name", "the metric is defender_hunting_<name>"},
		{"help", "it becomes the metric's HELP text"},
		{"interval", "how often every tenant runs the query, 1m or more"},
		{"query", "the KQL to run"},
		{"labels", "list the result columns that become labels, or [] for none"},
		{"value", "the numeric result column that becomes the value, e.g. count_"},
	} {
		if !has[req.key] {
			d.errAt(qat, nil, "%s is required: %s", req.key, req.why)
		}
	}
	if q.Value != "" && labelCols[q.Value] {
		d.errAt(valueAt, nil, "%q is also listed in labels: a column is either a label or the value", q.Value)
	}
	return q, len(d.errs) == before
}

func (d *decoder) labels(n *yaml.Node, path string, cols map[string]bool) []string {
	items, ok := d.sequence(n, path, "column names")
	if !ok {
		return nil
	}
	out := make([]string, 0, len(items))
	byLabel := map[string]string{}
	for i, it := range items {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		col, ok := d.scalar(it, ipath, "a column name")
		if !ok {
			continue
		}
		label := LabelName(col)
		switch {
		case col == "":
			d.errf(it, ipath, "is empty: name a result column, e.g. SensorHealthState")
		case !labelNameRE.MatchString(label) || strings.HasPrefix(label, "__"):
			d.errf(it, ipath, "column %q becomes %q, which is not a valid label name: rename the column in the query (| project-rename) to letters, digits and _", truncate(col), truncate(label))
		case label == "tenant":
			d.errf(it, ipath, "column %q would become the label tenant, which the exporter sets itself: rename it in the query (| project-rename)", col)
		case byLabel[label] != "":
			d.errf(it, ipath, "column %q and column %q both become the label %s: rename one in the query (| project-rename)", col, byLabel[label], label)
		default:
			byLabel[label] = col
			cols[col] = true
			out = append(out, col)
		}
	}
	return out
}

// huntingBudget checks that the hunting queries fit Defender's hunting quota, which every tenant
// spends on every query of the hunting: section and on the built-in queries of the collectors
// set to api: graph. Exceeding it would not fail loudly: queries would get 429s at random and their
// metrics would go stale one by one. Collector intervals can differ per tenant (refresh_interval),
// so each tenant is checked; at is the hunting: section, or collectors: when there is none.
func (d *decoder) huntingBudget(cfg *Config, at pos) {
	perHour, perMinute := 0, 0
	for _, q := range cfg.Hunting.Queries {
		if q.Interval <= 0 {
			continue
		}
		perHour += int((time.Hour + q.Interval - 1) / q.Interval)
		perMinute++ // an interval of 1m or more runs at most once in any minute
	}
	tenants := cfg.Tenants
	if len(tenants) == 0 {
		tenants = []Tenant{{}} // broken tenants: check the file's own intervals
	}
	for _, t := range tenants {
		b := cfg.builtinHuntingUse(t)
		who, whoMinute := "per tenant", ""
		if len(cfg.Tenants) > 1 && len(b.parts) > 0 {
			who = "for tenant " + t.Name
			whoMinute = " " + who
		}
		hour, minute := perHour+b.perHour, perMinute+b.perMinute
		var failed bool
		if hour > huntingCallsPerHour {
			failed = true
			d.errAt(at, nil, "queries need %s calls/hour %s%s, %s more than Defender's %s/hour: raise some intervals",
				thousands(hour), who, b.describe(thousands(b.perHour)), thousands(hour-huntingCallsPerHour), thousands(huntingCallsPerHour))
		}
		if minute > huntingCallsPerMinute {
			failed = true
			d.errAt(at, nil, "%d queries may all run in the same minute%s%s, %d more than Defender's %d calls/minute per tenant: remove some queries",
				minute, whoMinute, b.describe(fmt.Sprint(b.perMinute)), minute-huntingCallsPerMinute, huntingCallsPerMinute)
		}
		if failed {
			return // one tenant's verdict is enough; the others share most of it
		}
	}
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

var isoDurationRE = regexp.MustCompile(`^P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$`)

// validTimespan is a syntax check of the forms runHuntingQuery documents: a duration, a start time,
// or start/end, duration/end, start/duration. Graph gives the final verdict; this catches typos
// such as "1d" (Prometheus syntax) before the first refresh does.
func validTimespan(s string) bool {
	parts := strings.Split(s, "/")
	switch len(parts) {
	case 1:
		return isISODuration(s) || isISOTime(s)
	case 2:
		a, b := parts[0], parts[1]
		switch {
		case isISOTime(a) && isISOTime(b):
			ta, _ := parseISOTime(a)
			tb, _ := parseISOTime(b)
			return ta.Before(tb)
		case isISODuration(a):
			return isISOTime(b)
		case isISOTime(a):
			return isISODuration(b)
		}
	}
	return false
}

func isISODuration(s string) bool {
	return s != "P" && !strings.HasSuffix(s, "T") && isoDurationRE.MatchString(s)
}

func parseISOTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}

func isISOTime(s string) bool {
	_, err := parseISOTime(s)
	return err == nil
}

// reservedHuntingNames would make defender_hunting_<name> collide with the
// per-query metrics every hunting job exports.
var reservedHuntingNames = map[string]bool{
	"query_success":          true,
	"query_duration_seconds": true,
	"query_rows":             true,
}
