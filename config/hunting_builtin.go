package config

import (
	"fmt"
	"strings"
	"time"
)

// builtinHuntingQueries is how many advanced hunting queries a refresh of each collector runs on
// the graph back end (collector/queries/*.kql): device posture has no Graph REST API, so machines,
// av_health, vulnerabilities and recommendations are counted by queries run through
// runHuntingQuery, which spend the tenant's hunting quota with the queries of the hunting:
// section. scores runs none (no hunting table holds the scores). The collector package's
// TestBuiltinQueryCounts keeps this table equal to the queries the collectors run.
var builtinHuntingQueries = map[string]int{
	"machines":        1,
	"av_health":       1,
	"vulnerabilities": 1,
	"recommendations": 1,
}

// BuiltinHuntingQueries returns how many built-in hunting queries a refresh of the collector runs
// with api: graph.
func BuiltinHuntingQueries(collector string) int { return builtinHuntingQueries[collector] }

// builtinHuntingUse is what the enabled graph-back-end collectors of one tenant spend of the
// hunting quota at their intervals.
type builtinHuntingUse struct {
	perHour, perMinute int
	parts              []string // "machines 4/h", for the error message
}

func (c *Config) builtinHuntingUse(t Tenant) builtinHuntingUse {
	var u builtinHuntingUse
	for _, name := range CollectorNames {
		col := c.Collectors[name]
		n := builtinHuntingQueries[name]
		if !col.Enabled || col.API != "graph" || n == 0 {
			continue
		}
		iv := c.Interval(t, name)
		hour := n * int((time.Hour+iv-1)/iv)
		u.perHour += hour
		u.perMinute += n * int((time.Minute+iv-1)/iv)
		u.parts = append(u.parts, fmt.Sprintf("%s %s/h", name, thousands(hour)))
	}
	return u
}

// describe names the built-in share of a total, "" when there is none.
func (u builtinHuntingUse) describe(what string) string {
	if len(u.parts) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%s of them the built-in queries of collectors with api: graph: %s)", what, strings.Join(u.parts, ", "))
}
