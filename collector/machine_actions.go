package collector

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

// Machine actions (isolation, scans) move by the minute.
func init() {
	register(Spec{
		Config: config.CollectorSpec{
			Name: "machine_actions", Order: 70,
			Default: config.Collector{Enabled: true, Interval: 5 * time.Minute, Lookback: defaultLookback},
			Keys:    []string{"lookback"},
		},
		New:   newMachineActionsCollector,
		Calls: map[string]map[defender.Family]int{"": {defender.FamilyMDE: 1}},
	})
}

var (
	machineActionsDesc = newDesc("machine_actions",
		"Response actions on machines (isolation, scans, investigation packages...) created within the lookback window.",
		"type", "status")
	machinesIsolatedDesc = newDesc("machines_isolated",
		"Machines whose latest succeeded Isolate or Unisolate action within the lookback window is an Isolate.")
)

type machineActionsCollector struct {
	lookback time.Duration
}

func newMachineActionsCollector(cfg config.Collector) (Collector, error) {
	lookback, err := lookbackOf(cfg)
	if err != nil {
		return nil, err
	}
	return &machineActionsCollector{lookback: lookback}, nil
}

// machineActionsMaxPage is the documented page-size limit of /api/machineactions.
const machineActionsMaxPage = 10000

// isolation is a machine's latest succeeded Isolate or Unisolate so far.
type isolation struct {
	at       time.Time
	isolated bool
}

// Refresh lists the actions created within the lookback in one listing.
// Isolation is judged from the same listing, so an isolation older than the
// lookback is not seen: the lookback should cover how long machines stay
// isolated.
func (c *machineActionsCollector) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	since := t.Now().Add(-c.lookback).UTC().Format(time.RFC3339)
	actions := newCounter(machineActionsDesc)
	latest := map[string]isolation{}
	_, err := defender.List(ctx, t.Client, defender.Request{
		API:      defender.APIMDE,
		Family:   defender.FamilyMDE,
		Endpoint: "/api/machineactions",
		Path:     "/api/machineactions",
		Query:    url.Values{"$filter": {"creationDateTimeUtc ge " + since}},
		PageSize: machineActionsMaxPage,
	}, func(a *defender.MachineAction) error {
		typ, status := machineActionType.canon(a.Type), machineActionStatus.canon(a.Status)
		actions.inc(typ, status)
		if status != "Succeeded" || (typ != "Isolate" && typ != "Unisolate") || a.MachineID == "" {
			return nil
		}
		at := a.LastUpdate().Time
		// On a tie the later row in the listing wins, which is arbitrary
		// but stable for a given answer.
		if prev, ok := latest[a.MachineID]; !ok || !at.Before(prev.at) {
			latest[a.MachineID] = isolation{at: at, isolated: typ == "Isolate"}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing machine actions: %w", err)
	}
	isolated := 0
	for _, l := range latest {
		if l.isolated {
			isolated++
		}
	}
	out := actions.emit(nil, t.Tenant)
	return gauge(out, machinesIsolatedDesc, t.Tenant, float64(isolated)), nil
}
