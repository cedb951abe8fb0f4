package collector

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

// Hourly, as the other device-posture collectors.
func init() {
	register(Spec{
		Config: config.CollectorSpec{
			Name: "av_health", Order: 60,
			Default: config.Collector{Enabled: true, Interval: time.Hour},
			Keys:    []string{"api"},
			APIs:    []string{"mde", "graph"},
		},
		New: newAVHealthCollector,
		Calls: map[string]map[defender.Family]int{
			"mde":   {defender.FamilyAVInfo: 1},
			"graph": {defender.FamilyHunting: 1}, // the built-in query
		},
	})
}

var (
	avMachinesDesc = newDesc("av_machines",
		"Machines in the device antivirus health report, by antivirus mode and whether signatures, engine and platform are up to date.",
		"av_mode", "signature_up_to_date", "engine_up_to_date", "platform_up_to_date")
	avScanResultsDesc = newDesc("av_scan_results",
		"Machines by the result of their last quick or full antivirus scan (empty when never scanned).",
		"scan_type", "result")
)

type avHealthCollector struct {
	pageSize int // avInfoMaxPage; tests lower it to page a small tenant
}

func newAVHealthCollector(cfg config.Collector) (Collector, error) {
	if cfg.API == "graph" {
		return newAVHealthGraphCollector(cfg)
	}
	return &avHealthCollector{pageSize: avInfoMaxPage}, nil
}

// avInfoMaxPage is the documented page-size limit of /api/deviceavinfo. It
// pages like the export APIs: `pageSize` (not $top, which gives one page
// without a nextLink) and @odata.nextLink with a $skiptoken.
const avInfoMaxPage = 200000

// avModes are the codes of the string-typed avMode; "" is Other too.
var avModes = map[float64]string{0: "Active", 1: "Passive", 2: "Disabled", 3: "Other", 4: "EDRBlocked", 5: "PassiveAudit"}

// avModeLabel names an avMode code; an unknown code keeps its digits so
// that a new mode shows up rather than vanishing into "Other".
func avModeLabel(n defender.Number) string {
	if !n.Known {
		return "Other"
	}
	if name, ok := avModes[n.Value]; ok {
		return name
	}
	return strconv.FormatFloat(n.Value, 'f', -1, 64)
}

// Refresh reads the report in pages of 200,000 rows: one call for most
// tenants, from the avinfo budget (30 calls a minute).
func (c *avHealthCollector) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	machines := newCounter(avMachinesDesc)
	scans := newCounter(avScanResultsDesc)
	// One row per machine: a row repeated across pages while the export
	// shifts must not count twice.
	seen := map[string]struct{}{}
	_, err := defender.List(ctx, t.Client, defender.Request{
		API:           defender.APIMDE,
		Family:        defender.FamilyAVInfo,
		Endpoint:      "/api/deviceavinfo",
		Path:          "/api/deviceavinfo",
		PageSize:      c.pageSize,
		PageSizeParam: "pageSize",
	}, func(r *defender.DeviceAVInfo) error {
		if r.MachineID != "" {
			if _, dup := seen[r.MachineID]; dup {
				return nil
			}
			seen[r.MachineID] = struct{}{}
		}
		machines.inc(avModeLabel(r.AVMode), r.AVIsSignatureUpToDate.Label(), r.AVIsEngineUpToDate.Label(), r.AVIsPlatformUpToDate.Label())
		scans.inc("quick", avScanResult.canon(r.QuickScanResult))
		scans.inc("full", avScanResult.canon(r.FullScanResult))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing device AV health: %w", err)
	}
	out := machines.emit(nil, t.Tenant)
	return scans.emit(out, t.Tenant), nil
}
