package collector

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// The graph back end of the incidents collector (incidents_graph.go).

func TestGraphIncidentsGolden(t *testing.T) {
	_, target := fakeTenant(t, defendertest.Size{Machines: 50, Incidents: 300})
	c, err := New(collectorConfigAPI(t, "incidents", "graph"))
	if err != nil {
		t.Fatal(err)
	}
	ms := refresh(t, c, target)
	compareGolden(t, ms, "incidents_graph")
	// awaitingAction came after unknownFutureValue: named only for a
	// client that sends the Prefer header.
	if got := labelValues(t, ms, "defender_incidents", "status"); !strings.Contains(strings.Join(got, ","), "AwaitingAction") {
		t.Errorf("incident statuses %v lack AwaitingAction", got)
	}
}

// TestGraphIncidentsDocumentedExample runs the first list example of
// Microsoft's incidents page
// (https://learn.microsoft.com/graph/api/security-list-incidents, saved as
// testdata/graph_incidents_example.json) through the collector. Its values
// are PascalCase, unlike the page's other example and the resource page:
// the label rule (first letter upper-cased) gives the same labels either way.
func TestGraphIncidentsDocumentedExample(t *testing.T) {
	body, err := os.ReadFile("testdata/graph_incidents_example.json")
	if err != nil {
		t.Fatal(err)
	}
	tenant, target := fakeTenant(t, defendertest.Size{})
	c, _ := New(collectorConfigAPI(t, "incidents", "graph"))
	for _, b := range []string{string(body), camelCaseEnums(string(body))} {
		tenant.SetFault(defendertest.GraphIncidentsPath, defendertest.Fault{Body: b})
		got := string(exposition(t, refresh(t, c, target)))
		for _, want := range []string{
			`defender_incidents{classification="TruePositive",determination="MultiStagedAttack",severity="Medium",status="Active",tenant="contoso"} 1`,
			`defender_incidents_oldest_unresolved_timestamp_seconds{severity="Medium",tenant="contoso"} 1.628844215e+09`, // 2021-08-13T08:43:35Z
		} {
			if !strings.Contains(got, want) {
				t.Errorf("lacks %s:\n%s", want, got)
			}
		}
	}
}

// camelCaseEnums rewrites the example's PascalCase enum values the way the
// page's second example spells them.
func camelCaseEnums(body string) string {
	return strings.NewReplacer(`"TruePositive"`, `"truePositive"`, `"MultiStagedAttack"`, `"multiStagedAttack"`,
		`"Active"`, `"active"`, `"Medium"`, `"medium"`).Replace(body)
}

func TestGraphIncidentsErrors(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 10, Incidents: 250})
	c, _ := New(collectorConfigAPI(t, "incidents", "graph"))
	ms, err := c.Refresh(context.Background(), targetWithRoles(t, tenant, "SecurityAlert.Read.All"))
	if !defender.IsStatus(err, 403) || !strings.HasPrefix(err.Error(), "listing incidents: ") || ms != nil {
		t.Fatalf("without SecurityIncident.Read.All: %v", err)
	}
	// An answer cut short, a nextLink loop after a good first page, and
	// throttling that does not end: an error each, no partial snapshot.
	tenant.SetFault(defendertest.GraphIncidentsPath, defendertest.Fault{Truncated: true})
	if ms, err := c.Refresh(context.Background(), target); err == nil || ms != nil {
		t.Fatalf("truncated page: %v, %d metrics", err, len(ms))
	}
	tenant.SetFault(defendertest.GraphIncidentsPath, defendertest.Fault{NextLinkLoop: true})
	if ms, err := c.Refresh(context.Background(), target); err == nil || ms != nil || !strings.Contains(err.Error(), "loop") {
		t.Fatalf("nextLink loop: %v, %d metrics", err, len(ms))
	}
	tenant.SetFault(defendertest.GraphIncidentsPath, defendertest.Fault{Status: 429, RetryAfter: "0"})
	if ms, err := c.Refresh(context.Background(), target); !errors.Is(err, defender.ErrThrottled) || ms != nil {
		t.Fatalf("throttled: %v", err)
	}
}
