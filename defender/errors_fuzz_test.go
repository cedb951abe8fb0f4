package defender

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// maxErrorLen bounds APIError.Error(): method, template, status text and
// three server-provided fields of at most maxMessageLen bytes each.
const maxErrorLen = 200 + 3*(maxMessageLen+len("…"))

// oneLogLine fails if s could break a log line or flood it.
func oneLogLine(t *testing.T, what, s string, limit int) {
	t.Helper()
	if len(s) > limit {
		t.Fatalf("%s is %d bytes long: %.80q…", what, len(s), s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			t.Fatalf("%s holds control character %U: %q", what, r, s)
		}
	}
	if !utf8.ValidString(s) {
		t.Fatalf("%s is not valid UTF-8: %q", what, s)
	}
}

// FuzzAPIError: whatever an API answers with (status, Content-Type,
// Retry-After, Location, body), the error is one bounded log line and the
// Retry-After is within [0, maxRetryAfter].
func FuzzAPIError(f *testing.F) {
	f.Add(500, "application/json", "", "", []byte(`{"error":{"code":"InternalServerError","message":"An error occurred.","target":"1f3c"}}`))
	f.Add(429, "application/json", "30", "", []byte(`{"error":{"code":"TooManyRequests","message":"Rate limit is exceeded. Try again in 30 seconds."}}`))
	f.Add(429, "text/plain", "Wed, 21 Oct 2015 07:28:00 GMT", "", []byte("slow down\r\nX-Injected: yes"))
	f.Add(307, "", "", "https://evil.example/api/alerts?token=abc", []byte(""))
	// A redirect target is the server's text too: CI's fuzz run once found
	// an 8.6 kB Location copied whole into the error.
	f.Add(302, "", "", "https://evil.example/"+strings.Repeat("%AF", 3000), []byte(""))
	f.Add(403, "application/json", "-1", "", []byte(`{"error":{"code":"Forbidden","message":"line one\nline two\u0000\u001b[31m"}}`))
	f.Add(502, "text/html", "99999999999999999999", "", []byte("<html>bad gateway</html>"))
	f.Add(400, "application/problem+json", "", "", bytes.Repeat([]byte("é"), 2000))
	c, err := NewClient(Options{
		Credential: Credential{TenantID: "t", ClientID: "c", ClientSecret: "fuzz-secret"},
		Endpoints:  Endpoints{Authority: "https://login.example.test", MDE: fuzzBase, XDR: fuzzBase, Graph: fuzzBase},
		Scopes:     Scopes{MDE: "https://m/.default", XDR: "https://x/.default", Graph: "https://g/.default"},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status int, contentType, retryAfter, location string, body []byte) {
		if status < 100 || status > 999 {
			status = 500
		}
		h := http.Header{}
		for k, v := range map[string]string{"Content-Type": contentType, "Retry-After": retryAfter, "Location": location} {
			if v != "" {
				h.Set(k, v)
			}
		}
		resp := &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body))}
		e := c.apiError(resp, func() {}, http.MethodGet, "/api/alerts")
		oneLogLine(t, "APIError", e.Error(), maxErrorLen)
		if e.RetryAfter < 0 || e.RetryAfter > maxRetryAfter {
			t.Fatalf("Retry-After %q read as %s", retryAfter, e.RetryAfter)
		}
	})
}

// FuzzOAuthError: whatever the authority answers, the code and the detail
// that reach an AuthError are single bounded lines.
func FuzzOAuthError(f *testing.F) {
	f.Add([]byte(`{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[7000215]}`))
	f.Add([]byte(`{"error":{"code":"invalid_resource","message":"Bad resource\nsecond line"}}`))
	f.Add([]byte(`{"message":"Identity not found"}`))
	f.Add([]byte(`{"error_codes":[90002]}`))
	f.Add([]byte("<html>\n<body>proxy error</body>\n</html>"))
	f.Add([]byte(`{"error":12,"error_description":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		code, detail := oauthError(&http.Response{StatusCode: 400, Body: io.NopCloser(bytes.NewReader(body))})
		oneLogLine(t, "code", code, maxMessageLen+len("…"))
		oneLogLine(t, "detail", detail, maxMessageLen+len("…"))
	})
}

// FuzzParseRetryAfter: any header value gives a wait within [0, maxRetryAfter].
func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"0", "30", " 7 ", "-5", "1e3", "99999999999999999999", "Thu, 26 Nov 2026 12:01:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT", "Monday, 30-Nov-26 12:00:00 GMT", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if d := parseRetryAfter(h, now); d < 0 || d > maxRetryAfter {
			t.Fatalf("Retry-After %q read as %s", h, d)
		}
	})
}
