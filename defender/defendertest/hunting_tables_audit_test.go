package defendertest

import "testing"

// CloudAppEvents has an audit record per isolation and release request of
// /api/machineactions.
func TestCloudAppEventsMatchMachineActions(t *testing.T) {
	d := Generate(4, Size{Machines: 50, MachineActions: 300}, testNow)
	want := map[string]int64{}
	for _, a := range d.MachineActions {
		if action, ok := auditActionTypes[a.Type]; ok {
			want[action]++
		}
	}
	got := counts(t, mustRun(t, d, `CloudAppEvents | where tostring(RawEventData.Workload) == "MicrosoftDefenderForEndpoint" | summarize count() by ActionType`))
	if len(want) != 2 || len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d records, want %d", k, got[k], n)
		}
	}
}
