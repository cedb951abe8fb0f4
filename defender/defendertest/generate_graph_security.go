package defendertest

import (
	"math/rand/v2"
	"time"
)

// Streams of the seed for the Graph-only data (Secure Score, Defender for
// Identity), apart from the others so that adding them changed no other
// entity type, and their own drift stream so that the posture drift stays
// as it was.
const (
	streamSecureScores = 0x737363
	streamIdentity     = 0x696474
	streamGraphDrift   = 0x677264
)

// generateGraphSecurity fills the Graph-only data.
func generateGraphSecurity(d *Dataset, seed int64) {
	stream := func(s uint64) *rand.Rand { return rand.New(rand.NewPCG(uint64(seed), s)) }
	d.SecureScores = generateSecureScores(d, stream(streamSecureScores))
	d.IdentityHealthIssues, d.IdentitySensors = generateIdentity(d, stream(streamIdentity))
	d.graphRNG = stream(streamGraphDrift)
}

// driftGraphSecurity moves the Graph-only data. The caller holds the write
// lock.
func (d *Dataset) driftGraphSecurity(now time.Time) {
	d.driftSecureScore(d.graphRNG, now)
	d.driftIdentity(d.graphRNG, now)
}
