package config

import (
	"fmt"
	"strings"
	"time"
)

// Device posture has no Graph REST API, so machines, av_health, vulnerabilities and
// recommendations count on their graph back end with built-in advanced hunting queries
// (collector/queries/*.kql) run through runHuntingQuery. Those spend the tenant's hunting quota with
// the queries of the hunting: section, so the quota check counts them: each collector's
// CollectorSpec.HuntingQueries says how many a refresh runs per back end, and the collector package
// derives it from the queries it really runs.

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
		n := BuiltinHuntingQueries(name, col.API)
		if !col.Enabled || n == 0 {
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
