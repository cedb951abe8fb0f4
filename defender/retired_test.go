package defender

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestRetiredAnswers: which error answers count as "the API is retired".
// Each case is a real call through the client, so the classification is
// seen where it happens, with the answer's bounded message kept.
func TestRetiredAnswers(t *testing.T) {
	graphReq := Request{API: APIGraph, Family: FamilyGraph, Endpoint: "/v1.0/security/secureScores", Path: "/v1.0/security/secureScores"}
	xdrReq := Request{API: APIXDR, Family: FamilyIncidents, Endpoint: "/api/incidents", Path: "/api/incidents"}
	body := func(code, msg string) string { return `{"error":{"code":"` + code + `","message":"` + msg + `"}}` }
	for _, c := range []struct {
		name    string
		req     Request
		status  int
		body    string
		retired bool
	}{
		{"410 from MDE", alertsReq, 410, body("Gone", "Gone"), true},
		{"410 without a body", alertsReq, 410, "", true},
		{"410 from XDR", xdrReq, 410, body("Gone", "The resource is gone"), true},
		{"400 saying deprecated", alertsReq, 400, body("BadRequest", "This API is deprecated; use Microsoft Graph."), true},
		{"404 saying no longer supported", alertsReq, 404, body("NotFound", "The MDE API is no longer supported."), true},
		{"403 saying retired", xdrReq, 403, body("Forbidden", "The Microsoft 365 Defender API has been retired."), true},
		{"400 saying sunset", alertsReq, 400, body("ApiSunset", ""), true},
		{"410 from Graph", graphReq, 410, body("Gone", "This API has been retired."), false},
		{"404 of an entity that no longer exists", alertsReq, 404, body("NotFound", "Machine no longer exists."), false},
		{"401 saying no longer valid", alertsReq, 401, body("Unauthorized", "The token is no longer valid."), false},
		{"403 plain", alertsReq, 403, body("Forbidden", "Insufficient permissions."), false},
		{"400 plain", alertsReq, 400, body("BadRequest", "Invalid filter clause."), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, c.status, c.body) })
			client, _, _ := testClient(t, ts, nil)
			var v struct{}
			err := Get(context.Background(), client, c.req, &v)
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, ErrAPIRetired); got != c.retired {
				t.Fatalf("retired = %v, want %v: %v", got, c.retired, err)
			}
			if !IsStatus(err, c.status) {
				t.Errorf("IsStatus(%d) false: %v", c.status, err)
			}
			var re *RetiredError
			if c.retired && (!errors.As(err, &re) || re.API != c.req.API) {
				t.Errorf("not a *RetiredError of %s: %#v", c.req.API, err)
			}
		})
	}
}

// TestRetiredMessageBounded: a retirement notice of any length leaves one
// bounded log line, as any error answer does.
func TestRetiredMessageBounded(t *testing.T) {
	long := "This API is retired. " + strings.Repeat("See the migration guide. ", 400) + "\nsecond line"
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 410, `{"error":{"code":"Gone","message":"`+strings.ReplaceAll(long, "\n", `\n`)+`"}}`)
	})
	client, _, _ := testClient(t, ts, nil)
	_, err := List(context.Background(), client, alertsReq, func(*Alert) error { return nil })
	if !errors.Is(err, ErrAPIRetired) {
		t.Fatalf("not retired: %v", err)
	}
	if msg := err.Error(); len(msg) > maxMessageLen+100 || strings.Contains(msg, "second line") || !strings.Contains(msg, "This API is retired.") {
		t.Errorf("message of %d bytes: %q", len(msg), msg)
	}
}

func TestSaysRetired(t *testing.T) {
	for text, want := range map[string]bool{
		"API retired":                      true,
		"Retirement notice":                true,
		"DEPRECATED":                       true,
		"endpoint decommissioned":          true,
		"no longer functions":              true,
		"is no longer available":           true,
		"no longer in service":             true,
		"the indicator no longer exists":   false,
		"no longer":                        false,
		"available, though no longer soon": false,
		"":                                 false,
	} {
		if got := saysRetired(text); got != want {
			t.Errorf("saysRetired(%q) = %v, want %v", text, got, want)
		}
	}
}
