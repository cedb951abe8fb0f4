package defender

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestDecodePageKeyOrder(t *testing.T) {
	for _, body := range []string{
		`{"@odata.context":"x","value":[{"id":"a"},{"id":"b"}],"@odata.nextLink":"https://h/n"}`,
		`{"@odata.nextLink":"https://h/n","@odata.count":2,"value":[{"id":"a"},{"id":"b"}],"extra":{"deep":[1,{"x":[]}]}}`,
	} {
		var ids []string
		n, next, err := decodePage(strings.NewReader(body), func(it *item) error { ids = append(ids, it.ID); return nil })
		if err != nil || n != 2 || next != "https://h/n" || strings.Join(ids, ",") != "a,b" {
			t.Errorf("%s: n %d next %q ids %v err %v", body, n, next, ids, err)
		}
	}
	n, next, err := decodePage(strings.NewReader(`{"value":null,"@odata.nextLink":null}`), func(*item) error { return nil })
	if err != nil || n != 0 || next != "" {
		t.Errorf("nulls: %d %q %v", n, next, err)
	}
}

// alertsPage renders n alerts as Defender would, about 600 bytes each.
func alertsPage(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"@odata.context":"https://api.security.microsoft.com/api/$metadata#Alerts","value":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"da6371838%06d_-1234567","incidentId":%d,"investigationId":null,"assignedTo":null,`+
			`"severity":"Medium","status":"New","classification":null,"determination":null,"investigationState":"Queued",`+
			`"detectionSource":"WindowsDefenderAv","category":"Malware","threatFamilyName":"Mimikatz",`+
			`"title":"Suspicious credential dump","description":"A long description of what happened on the device.",`+
			`"alertCreationTime":"2026-11-%02dT10:12:13.4567891Z","firstEventTime":"2026-11-01T10:00:00Z",`+
			`"lastEventTime":"2026-11-01T10:05:00Z","lastUpdateTime":"2026-11-02T11:00:00.123Z","resolvedTime":null,`+
			`"machineId":"111e6dd8c833c8a052ea231ec1b19adaf497b625","computerDnsName":"host%d.contoso.com",`+
			`"rbacGroupName":"Servers","aadTenantId":"a839b112-1253-6432-9bf6-94542403f21c","comments":[],"evidence":[]}`,
			i, i, i%28+1, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// BenchmarkListDecode streams a 10,000-alert page entity by entity.
func BenchmarkListDecode(b *testing.B) {
	page := alertsPage(10000)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		high := 0
		n, _, err := decodePage(bytes.NewReader(page), func(a *Alert) error {
			if a.Severity == "High" {
				high++
			}
			return nil
		})
		if err != nil || n != 10000 {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkUnmarshalPage is the baseline: the whole page at once.
func BenchmarkUnmarshalPage(b *testing.B) {
	page := alertsPage(10000)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		var p struct {
			Value    []Alert `json:"value"`
			NextLink string  `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(page, &p); err != nil || len(p.Value) != 10000 {
			b.Fatal(err)
		}
	}
}
