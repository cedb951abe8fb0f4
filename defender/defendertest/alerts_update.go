package defendertest

// Changing the data from a test: what an analyst or Defender does to alerts
// between two refreshes, so that a test can compare an incremental refresh
// with a full listing after each change.

// UpdateAlerts calls fn on every alert, the dataset locked against other
// changes; each alert fn reports it changed gets lastUpdateTime (Graph's
// lastUpdateDateTime) set to now by the tenant's clock, as Defender does.
// It returns how many changed.
func (t *Tenant) UpdateAlerts(fn func(a *Alert) bool) int {
	now := TimeOf(t.now())
	t.data.mu.Lock()
	defer t.data.mu.Unlock()
	n := 0
	for i := range t.data.Alerts {
		if a := &t.data.Alerts[i]; fn(a) {
			a.LastUpdateTime = now
			n++
		}
	}
	return n
}

// DriftStep moves the data on once, as Options.Drift does every period: a
// few new alerts, some open alerts progressed or resolved, incidents and
// posture data moving, all stamped with the tenant's clock.
func (t *Tenant) DriftStep() { t.data.driftStep(t.now()) }
