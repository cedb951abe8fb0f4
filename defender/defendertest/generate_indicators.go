package defendertest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

var (
	indicatorTypes = newWeighted[string]("FileSha256", 30, "FileSha1", 15, "FileMd5", 5, "CertificateThumbprint", 5,
		"IpAddress", 15, "DomainName", 15, "Url", 15)
	fileActions        = newWeighted[string]("Block", 30, "BlockAndRemediate", 25, "Audit", 15, "Warn", 10, "Allowed", 20)
	certActions        = newWeighted[string]("Allowed", 50, "BlockAndRemediate", 50)
	networkActions     = newWeighted[string]("Block", 45, "Warn", 15, "Audit", 15, "Allowed", 25)
	legacyActions      = newWeighted[string]("Alert", 40, "AlertAndBlock", 60)
	indicatorSeverity  = newWeighted[string]("Informational", 20, "Low", 20, "Medium", 35, "High", 25)
	indicatorTitles    = []string{"Known C2 server", "Blocked by the SOC", "Phishing landing page", "Ransomware loader", "Approved line-of-business tool", "Threat intel feed match"}
	indicatorApps      = []string{"", "", "ContosoSOAR", "TI feed connector"}
	indicatorHexDigits = "0123456789abcdef"
)

// indicatorWindow is how far back indicators were created.
const indicatorWindow = 2 * 365 * 24 * time.Hour

func randomHex(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = indicatorHexDigits[r.IntN(16)]
	}
	return string(b)
}

// generateIndicators makes n indicators created over two years, oldest
// first. Indicators older than a year sometimes keep a legacy action.
func generateIndicators(d *Dataset, r *rand.Rand, n int) []Indicator {
	created := make([]time.Time, n)
	for i := range created {
		created[i] = d.Now.Add(-between(r, time.Hour, indicatorWindow))
	}
	slices.SortFunc(created, func(a, b time.Time) int { return a.Compare(b) })
	out := make([]Indicator, n)
	for i := range out {
		x := &out[i]
		c := created[i]
		x.ID = strconv.Itoa(500 + i)
		x.IndicatorType = indicatorTypes.pick(r)
		switch x.IndicatorType {
		case "FileSha256":
			x.IndicatorValue, x.Action = randomHex(r, 64), fileActions.pick(r)
		case "FileSha1":
			x.IndicatorValue, x.Action = randomHex(r, 40), fileActions.pick(r)
		case "FileMd5":
			x.IndicatorValue, x.Action = randomHex(r, 32), fileActions.pick(r)
		case "CertificateThumbprint":
			x.IndicatorValue, x.Action = randomHex(r, 40), certActions.pick(r)
		case "IpAddress":
			x.IndicatorValue = fmt.Sprintf("%s.%d", [...]string{"192.0.2", "198.51.100", "203.0.113"}[r.IntN(3)], 1+r.IntN(254))
			x.Action = networkActions.pick(r)
		case "DomainName":
			x.IndicatorValue, x.Action = fmt.Sprintf("cdn-%s.example.net", randomHex(r, 6)), networkActions.pick(r)
		default:
			x.IndicatorValue = fmt.Sprintf("https://files-%s.example.org/download/%s", randomHex(r, 4), randomHex(r, 8))
			x.Action = networkActions.pick(r)
		}
		if d.Now.Sub(c) > 365*24*time.Hour && x.Action != "Allowed" && r.IntN(100) < 40 {
			x.Action = legacyActions.pick(r)
		}
		x.Severity = indicatorSeverity.pick(r)
		x.Title = indicatorTitles[r.IntN(len(indicatorTitles))]
		x.Description = x.Title + " (" + x.IndicatorType + ")"
		x.Application = indicatorApps[r.IntN(len(indicatorApps))]
		if r.IntN(100) < 60 {
			x.SourceType = "User"
			x.CreatedBy = analysts[r.IntN(2)]
			x.CreatedByDisplayName, x.CreatedBySource = x.CreatedBy, "Portal"
		} else {
			x.SourceType = "AadApp"
			x.CreatedBy = formatGUID(r.Uint64(), r.Uint64())
			x.CreatedByDisplayName, x.CreatedBySource = "TI feed connector", "PublicApi"
		}
		x.Source = x.CreatedByDisplayName
		x.LastUpdatedBy = x.CreatedBy
		x.CreationTimeDateTimeUTC = TimeOf(c)
		x.LastUpdateTime = TimeOf(c.Add(between(r, 0, min(30*24*time.Hour, d.Now.Sub(c)))))
		if r.IntN(100) < 40 {
			x.ExpirationTime = TimeOf(c.Add(between(r, 30*24*time.Hour, 365*24*time.Hour)))
		}
		if r.IntN(100) < 20 {
			g := deviceGroups[r.IntN(len(deviceGroups))]
			x.RBACGroupNames, x.RBACGroupIDs = []string{g.Name}, []int64{g.ID}
		}
		x.GenerateAlert = x.Action != "Allowed" && r.IntN(2) == 0
		if x.GenerateAlert {
			x.RecommendedActions = "Investigate the device and the user."
		}
		if x.SourceType == "AadApp" {
			x.ExternalID = "ti-" + randomHex(r, 10)
		}
	}
	return out
}
