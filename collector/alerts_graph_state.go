package collector

import (
	"fmt"
	"hash/maphash"
	"math"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/defender"
)

// alertState is what the graph back end of the alerts collector keeps
// between refreshes, so that a refresh can ask only for the alerts updated
// since the one before: per alert in scope, 8 bytes of value under an
// 8-byte key, where the JSON it came from is a few kilobytes.
//
//   - The key is a 64-bit hash of the alert's id (maphash, seeded per
//     state), not the id itself: ids are 30 to 50 bytes. Two ids of a
//     million alerts share a hash with a probability of about 3 in 100
//     million; the two alerts then count as one until the next full load.
//   - The value packs the creation time (Unix seconds, 40 bits) with the
//     index of the alert's label values in a table of the distinct
//     combinations seen (24 bits): interned label strings, stored once
//     however many alerts share them.
type alertState struct {
	seed   maphash.Seed
	alerts map[uint64]uint64
	combos []alertLabels
	// resolved[i] says whether combos[i] has the status Resolved.
	resolved []bool
	comboOf  map[alertLabels]uint32
	labels   labelCache
}

// alertLabels are one alert's label values, normalised (graphLabel).
type alertLabels struct {
	severity, status, category, detectionSource, serviceSource, classification, determination string
}

const (
	comboBits = 24
	maxCombos = 1 << comboBits
	comboMask = maxCombos - 1
	// maxCreated is the largest creation time a value holds (the year
	// 36812); later ones are clamped, which changes nothing: they are in
	// every lookback window.
	maxCreated = 1<<(64-comboBits) - 1
)

func newAlertState(sizeHint int) *alertState {
	return &alertState{
		seed:    maphash.MakeSeed(),
		alerts:  make(map[uint64]uint64, sizeHint),
		comboOf: map[alertLabels]uint32{},
	}
}

// pack turns an alert into its key and value.
func (s *alertState) pack(a *defender.GraphAlert) (key, value uint64, err error) {
	l := alertLabels{
		severity:        s.labels.get(a.Severity),
		status:          s.labels.get(a.Status),
		category:        s.labels.get(a.Category),
		detectionSource: s.labels.get(a.DetectionSource),
		serviceSource:   s.labels.get(a.ServiceSource),
		classification:  s.labels.get(a.Classification),
		determination:   s.labels.get(a.Determination),
	}
	combo, ok := s.comboOf[l]
	if !ok {
		if len(s.combos) == maxCombos {
			return 0, 0, fmt.Errorf("alert %s: more than %d distinct combinations of label values", defender.ClipLine(a.ID, 60), maxCombos)
		}
		combo = uint32(len(s.combos))
		s.combos = append(s.combos, l)
		s.resolved = append(s.resolved, l.status == "Resolved")
		s.comboOf[l] = combo
	}
	// A null creation time is 0, before any lookback window: such an alert
	// counts while it is unresolved, as the server's createdDateTime
	// filter, which never selects a null, has it.
	var created uint64
	if !a.CreatedDateTime.IsZero() {
		created = uint64(min(max(a.CreatedDateTime.Unix(), 0), maxCreated))
	}
	return maphash.String(s.seed, a.ID), created<<comboBits | uint64(combo), nil
}

// inScope says whether an alert counts: created within the lookback (at or
// after since, Unix seconds) or not resolved. Truncating the creation time
// to the second keeps its order against since, which is a whole second.
func (s *alertState) inScope(value uint64, since int64) bool {
	return int64(value>>comboBits) >= since || !s.resolved[value&comboMask]
}

// apply records an alert as listed: kept when in scope, forgotten when it
// left the scope (resolved, and created before the lookback).
func (s *alertState) apply(a *defender.GraphAlert, since int64) error {
	key, value, err := s.pack(a)
	if err != nil {
		return err
	}
	if s.inScope(value, since) {
		s.alerts[key] = value
	} else {
		delete(s.alerts, key)
	}
	return nil
}

// emit ages out the alerts that left the lookback window since they were
// listed (resolved and now created before since) and returns the metrics
// of the rest: what a full listing at this moment would give.
func (s *alertState) emit(tenant string, since int64) []prometheus.Metric {
	counts := make([]float64, len(s.combos))
	oldest := make([]int64, len(s.combos))
	for i := range oldest {
		oldest[i] = math.MaxInt64
	}
	for key, value := range s.alerts {
		if !s.inScope(value, since) {
			delete(s.alerts, key)
			continue
		}
		combo := value & comboMask
		counts[combo]++
		if created := int64(value >> comboBits); created > 0 && !s.resolved[combo] {
			oldest[combo] = min(oldest[combo], created)
		}
	}
	alerts := newCounter(alertsDesc)
	classified := newCounter(alertsClassifiedDesc)
	oldestUnresolved := newMinimum(alertsOldestDesc)
	for i, n := range counts {
		if n == 0 {
			continue
		}
		l := &s.combos[i]
		alerts.add(n, l.severity, l.status, l.category, l.detectionSource, l.serviceSource)
		if s.resolved[i] {
			classified.add(n, l.severity, l.classification, l.determination)
		} else if oldest[i] != math.MaxInt64 {
			oldestUnresolved.observe(float64(oldest[i]), l.severity)
		}
	}
	out := alerts.emit(nil, tenant)
	out = classified.emit(out, tenant)
	return oldestUnresolved.emit(out, tenant)
}

// len is the number of alerts kept.
func (s *alertState) len() int { return len(s.alerts) }
