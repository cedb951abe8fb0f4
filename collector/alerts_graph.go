package collector

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

// The graph back end of the alerts collector reads Microsoft Graph's
// alerts_v2 (https://learn.microsoft.com/graph/api/security-list-alerts_v2,
// permission SecurityAlert.Read.All). Its alerts carry their evidence and
// the API takes no $select: a few kilobytes per alert, where the MDE API's
// are a few hundred bytes. So after a first full listing a refresh asks
// only for the alerts updated since the previous one, and keeps a compact
// state of every alert in scope (alertState) from which it computes the
// same metrics a full listing would give.
//
// A full listing again happens after a restart (the state is in memory),
// after a failed refresh (the state may have missed an update), and every
// full_load_interval, which bounds what an incremental refresh cannot see:
// alerts that Defender deletes or lets expire from its retention, and an
// update whose lastUpdateDateTime is older than the overlap below.

// graphAlertsPath is both the path and the endpoint label.
const graphAlertsPath = "/v1.0/security/alerts_v2"

// graphAlertsMaxPage is the page size asked for. The alerts_v2 page
// documents no $top limit; Microsoft's "Graph Security API error
// responses" page gives the security API's alerts one of 1000
// (https://learn.microsoft.com/graph/api/resources/security-error-codes),
// and integrations that ask alerts_v2 for 2000 are reported to get 1000.
// Paging is by @odata.nextLink only: that page also limits $skip.
const graphAlertsMaxPage = 1000

// alertsOverlap is how far before the previous refresh's start an
// incremental refresh reaches back. The filter compares Graph's
// lastUpdateDateTime, stamped by Microsoft's clock, with ours: the overlap
// absorbs the skew between the two, and an update that becomes visible in
// the API a little after its timestamp. Re-reading an alert is harmless
// (the state is keyed by id); five minutes re-read at most the updates of
// five minutes, a few kilobytes each.
const alertsOverlap = 5 * time.Minute

type graphAlertsCollector struct {
	lookback  time.Duration
	fullEvery time.Duration

	mu        sync.Mutex // Refresh runs one at a time
	state     *alertState
	failed    bool      // the last refresh failed (the state was dropped)
	lastStart time.Time // start of the last successful refresh
	lastFull  time.Time // start of the last successful full listing
	lastSize  int       // alerts in scope after the last full listing, to size the next
}

func newGraphAlertsCollector(cfg config.Collector, lookback time.Duration) (Collector, error) {
	every := cfg.FullLoadInterval
	if every == 0 {
		every = config.DefaultCollector("alerts").FullLoadInterval
	}
	if every < 0 {
		return nil, fmt.Errorf("alerts: full_load_interval must be positive, got %s", every)
	}
	return &graphAlertsCollector{lookback: lookback, fullEvery: every}, nil
}

// fullLoadReason says why this refresh must list every alert in scope, or
// "" when the alerts updated since the last refresh will do.
func (c *graphAlertsCollector) fullLoadReason(start time.Time) string {
	switch {
	case c.state == nil && c.failed:
		return "the previous refresh failed"
	case c.state == nil:
		return "first refresh since start or reload"
	case start.Before(c.lastStart):
		return "the clock went back"
	case start.Sub(c.lastFull) >= c.fullEvery:
		return "full_load_interval elapsed"
	}
	return ""
}

func (c *graphAlertsCollector) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	start := t.Now().UTC()
	since := start.Add(-c.lookback).Truncate(time.Second)

	if reason := c.fullLoadReason(start); reason != "" {
		if t.Logger != nil {
			level.Debug(t.Logger).Log("msg", "listing every alert in scope", "tenant", t.Tenant, "reason", reason)
		}
		// The old state goes before the new one is built: one in memory
		// at a time.
		c.state = nil
		st := newAlertState(c.lastSize)
		filter := "createdDateTime ge " + since.Format(time.RFC3339) + " or status ne 'resolved'"
		if err := c.list(ctx, t, st, filter, since); err != nil {
			c.failed = true
			return nil, fmt.Errorf("listing alerts: %w", err)
		}
		c.state, c.failed, c.lastFull, c.lastSize = st, false, start, st.len()
	} else {
		from := c.lastStart.Add(-alertsOverlap).Truncate(time.Second).Format(time.RFC3339)
		if err := c.list(ctx, t, c.state, "lastUpdateDateTime ge "+from, since); err != nil {
			// Some updates may be in the state and some not: start over.
			c.state, c.failed = nil, true
			return nil, fmt.Errorf("listing alerts updated since %s: %w", from, err)
		}
	}
	c.lastStart = start
	return c.state.emit(t.Tenant, since.Unix()), nil
}

// list applies every alert the filter selects to st.
func (c *graphAlertsCollector) list(ctx context.Context, t *Target, st *alertState, filter string, since time.Time) error {
	sinceUnix := since.Unix()
	_, err := defender.List(ctx, t.Client, defender.Request{
		API:          defender.APIGraph,
		Family:       defender.FamilyGraph,
		Endpoint:     graphAlertsPath,
		Path:         graphAlertsPath,
		Query:        url.Values{"$filter": {filter}},
		PageSize:     graphAlertsMaxPage,
		NextLinkOnly: true,
	}, func(a *defender.GraphAlert) error { return st.apply(a, sinceUnix) })
	return err
}
