package defender

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// fuzzBase is the API host of FuzzNextLink. Nothing resolves it: every
// request stops at pageServer, so a request that leaves for another origin
// is seen, not sent.
const fuzzBase = "https://api.example.test"

type staticToken string

func (s staticToken) acquire(context.Context, string, bool) (string, error) { return string(s), nil }

// pageServer is a RoundTripper standing in for the network: the first page
// carries the fuzzed nextLink, any later page is empty and final.
type pageServer struct {
	mu       sync.Mutex
	next     string
	requests []*http.Request
}

func (p *pageServer) RoundTrip(req *http.Request) (*http.Response, error) {
	p.mu.Lock()
	first := len(p.requests) == 0
	p.requests = append(p.requests, req)
	p.mu.Unlock()
	body := `{"value":[]}`
	if first {
		link, _ := json.Marshal(p.next)
		body = `{"value":[{"id":"a"}],"@odata.nextLink":` + string(link) + `}`
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    req,
	}, nil
}

// FuzzNextLink: whatever @odata.nextLink says, the client either follows
// it on the API's own origin (scheme, host and port) or refuses it; no
// request, and so no bearer token, ever goes anywhere else.
func FuzzNextLink(f *testing.F) {
	for _, s := range []string{
		fuzzBase + "/api/alerts?$skip=10000",
		"/api/alerts?$skip=1",
		"?$skip=2",
		"api/alerts",
		"https://API.EXAMPLE.TEST:443/api/alerts",
		"https://api.example.test:8443/api/alerts",
		"http://api.example.test/api/alerts",
		"https://evil.example/api/alerts",
		"//evil.example/api/alerts",
		"https://api.example.test@evil.example/",
		"https://evil.example\\@api.example.test/",
		"https://api.example.test.evil.example/",
		"https://[::1]/x",
		"https://api.example.test%2f@evil/",
		"https://api.example.test/api/alerts?$filter=x%20eq%20'\u00e9'",
		fuzzBase + "/api/alerts",
		"",
		" ",
		"%zz",
		"javascript:alert(1)",
		"file:///etc/passwd",
	} {
		f.Add(s)
	}
	c, err := NewClient(Options{
		Tenant:     "fuzz",
		Credential: Credential{TenantID: "11111111-2222-3333-4444-555555555555", ClientID: "c", ClientSecret: "fuzz-secret"},
		Endpoints:  Endpoints{Authority: "https://login.example.test", MDE: fuzzBase, XDR: fuzzBase, Graph: fuzzBase},
		Scopes:     Scopes{MDE: "https://m/.default", XDR: "https://x/.default", Graph: "https://g/.default"},
		MaxRetries: -1,
		Budgets:    map[Family]Limit{FamilyMDE: {}},
	})
	if err != nil {
		f.Fatal(err)
	}
	c.tokens.provider = staticToken("fuzz-token")
	base, _ := url.Parse(fuzzBase)
	f.Fuzz(func(t *testing.T, next string) {
		srv := &pageServer{next: next}
		c.http = &http.Client{Transport: srv, CheckRedirect: noRedirects}
		_, err := List(context.Background(), c, Request{
			API: APIMDE, Family: FamilyMDE, Endpoint: "/api/alerts", Path: "/api/alerts",
		}, func(*Alert) error { return nil })

		for i, req := range srv.requests {
			if req.URL.Scheme != "https" || !strings.EqualFold(req.URL.Hostname(), "api.example.test") ||
				(req.URL.Port() != "" && req.URL.Port() != "443") {
				t.Fatalf("request %d went to %s (nextLink %q)", i, req.URL.Redacted(), next)
			}
			if req.Header.Get("Authorization") != "Bearer fuzz-token" {
				t.Fatalf("request %d without the token", i)
			}
		}
		if len(srv.requests) == 0 || len(srv.requests) > 2 {
			t.Fatalf("%d requests for a one-page listing with one nextLink", len(srv.requests))
		}
		if next == "" {
			if err != nil || len(srv.requests) != 1 {
				t.Fatalf("no nextLink: %d requests, %v", len(srv.requests), err)
			}
			return
		}
		nu, perr := base.Parse(next)
		if perr == nil && !sameOrigin(nu, base) {
			if !errors.Is(err, ErrForeignNextLink) || len(srv.requests) != 1 {
				t.Fatalf("foreign nextLink %q: %d requests, %v", next, len(srv.requests), err)
			}
		}
		if err == nil && len(srv.requests) != 2 {
			t.Fatalf("nextLink %q: followed without a second request", next)
		}
	})
}
