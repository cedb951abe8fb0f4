package defendertest

import (
	"time"
)

// Drift keeps the demo alive: every period a few alerts arrive, some open
// alerts move on (New → InProgress → Resolved) and a few devices change
// health, so dashboards and rate() panels show movement. Tests leave it off
// and call driftStep directly when they need it.

const defaultDriftEvery = 5 * time.Second

// driftSeverities leave High out: a stream of new High alerts every few
// seconds would keep DefenderHighSeverityAlertsNew firing for as long as
// the demo runs. High alerts arrive only when asked for (InjectAlerts, the
// demo's --demo.alert-burst-after).
var driftSeverities = newWeighted[string]("Informational", 15, "Low", 30, "Medium", 35, "UnSpecified", 3)

func (t *Tenant) startDrift() {
	every := t.opts.DriftEvery
	if every <= 0 {
		every = defaultDriftEvery
	}
	t.stopDrift = make(chan struct{})
	t.driftDone = make(chan struct{})
	go func() {
		defer close(t.driftDone)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-t.stopDrift:
				return
			case <-tick.C:
				t.data.driftStep(t.now())
			}
		}
	}()
}

// InjectAlerts adds n New alerts of the given severity ("" = random),
// created now by the tenant's clock, and returns copies of them.
func (t *Tenant) InjectAlerts(n int, severity string) []Alert {
	return t.data.injectAlerts(n, severity, t.now())
}

func (d *Dataset) injectAlerts(n int, severity string, now time.Time) []Alert {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Alert, 0, max(n, 0))
	for range n {
		out = append(out, *d.appendFreshAlert(now, severity))
	}
	return out
}

// appendFreshAlert adds an alert just raised: New, unassigned, unclassified.
// The caller holds the write lock.
func (d *Dataset) appendFreshAlert(now time.Time, severity string) *Alert {
	var a Alert
	fillAlert(d, d.rng, &a, now, severity)
	a.Status, a.AssignedTo = "New", ""
	a.Classification, a.Determination = "", ""
	a.ResolvedTime = 0
	a.LastUpdateTime = a.AlertCreationTime
	d.Alerts = append(d.Alerts, a)
	return &d.Alerts[len(d.Alerts)-1]
}

func (d *Dataset) driftStep(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.rng
	for range r.IntN(4) {
		d.appendFreshAlert(now, driftSeverities.pick(r))
	}
	// Work on recent open alerts, as analysts do.
	if n := len(d.Alerts); n > 0 {
		window := min(n, 500)
		for range 3 {
			a := &d.Alerts[n-1-r.IntN(window)]
			switch a.Status {
			case "New":
				a.Status = "InProgress"
				a.AssignedTo = analysts[r.IntN(len(analysts))]
				a.LastUpdateTime = TimeOf(now)
			case "InProgress":
				resolveAlert(r, a, now, false)
			}
		}
	}
	if n := len(d.Machines); n > 0 {
		for range 1 + r.IntN(2) {
			m := &d.Machines[r.IntN(n)]
			if m.HealthStatus == "Active" {
				m.HealthStatus = [...]string{"Inactive", "ImpairedCommunication", "NoSensorData"}[r.IntN(3)]
			} else {
				m.HealthStatus = "Active"
				m.LastSeen = TimeOf(now.Add(-between(r, time.Minute, time.Hour)))
			}
		}
		// Active devices keep reporting.
		for range min(n, 5) {
			if m := &d.Machines[r.IntN(n)]; m.HealthStatus == "Active" {
				m.LastSeen = TimeOf(now)
			}
		}
	}
	d.driftPosture(now) // drift_posture.go, from its own stream
	// generate_graph_security.go, from its own stream too.
	d.driftGraphSecurity(now)
}
