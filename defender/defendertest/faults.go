package defendertest

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
)

// Fault describes how the fake misbehaves on one endpoint. Fields combine:
// Delay runs first, then ResetConnection or Status/Body replace the answer;
// the remaining fields distort an otherwise normal answer.
type Fault struct {
	// Status, when set, answers with this status and the endpoint's error
	// shape: Defender's {"error":{"code":...}} on APIs (429 TooManyRequests,
	// 5xx InternalServerError, 401 Unauthorized, 403 Forbidden), Entra's on
	// "token". Body, when set, replaces that body verbatim (Status 0 = 200).
	Status     int
	RetryAfter string // Retry-After header value, sent with Status
	Body       string
	// Times limits the fault to the next N matching calls; 0 keeps it until
	// ClearFaults.
	Times int
	// Delay holds the answer back; a cancelled request context ends the wait
	// without an answer.
	Delay time.Duration
	// ResetConnection drops the TCP connection (RST) without an answer; on
	// HTTP/2 the stream is reset instead.
	ResetConnection bool
	// Malformed answers 200 with a body that is not valid JSON.
	Malformed bool
	// Truncated sends the headers and part of the body, cut inside an entity,
	// then drops the connection.
	Truncated bool
	// ContentType overrides the Content-Type header of the answer.
	ContentType string
	// EmptyPageWithNextLink answers a page with no entities but a nextLink to
	// the following page.
	EmptyPageWithNextLink bool
	// NextLinkLoop makes @odata.nextLink point at the page just served.
	NextLinkLoop bool
	// NextLinkOtherHost makes @odata.nextLink point at OtherHostURL(), which
	// records whether the client sent its bearer token there.
	NextLinkOtherHost bool
	// HugePage pads the first entity of the page with this many extra bytes
	// inside a string value, to test the client's body size cap.
	HugePage int
	// Retired answers 410 Gone with a message saying that the API is
	// retired, as the MDE and XDR APIs may once they stop on 2027-02-01
	// (Microsoft 365 Message Center MC1220762); a Status set too wins.
	Retired bool
}

type faultEntry struct {
	f         Fault
	remaining int // 0 = until cleared
}

type faultSet struct {
	mu sync.Mutex
	m  map[string]*faultEntry
}

// take returns the fault for endpoint and consumes one use of it.
func (s *faultSet) take(endpoint string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[endpoint]
	if !ok {
		return Fault{}, false
	}
	if e.remaining > 0 {
		e.remaining--
		if e.remaining == 0 {
			delete(s.m, endpoint)
		}
	}
	return e.f, true
}

// SetFault makes endpoint misbehave as f describes, replacing any fault set
// on it before. endpoint is an API path template ("/api/alerts"), "token",
// "openid-configuration", "jwks" or "managedidentity".
func (t *Tenant) SetFault(endpoint string, f Fault) {
	t.faults.mu.Lock()
	defer t.faults.mu.Unlock()
	if t.faults.m == nil {
		t.faults.m = map[string]*faultEntry{}
	}
	t.faults.m[endpoint] = &faultEntry{f: f, remaining: f.Times}
}

// ClearFaults removes every fault.
func (t *Tenant) ClearFaults() {
	t.faults.mu.Lock()
	defer t.faults.mu.Unlock()
	t.faults.m = nil
}

// replaceAnswer runs the parts of f that replace the normal answer (Delay,
// ResetConnection, Status/Body). It reports whether the request is done.
// writeStatus writes the endpoint's own error shape for f.Status.
func replaceAnswer(w http.ResponseWriter, r *http.Request, f Fault, writeStatus func(status int)) bool {
	if f.Delay > 0 {
		timer := time.NewTimer(f.Delay)
		select {
		case <-timer.C:
		case <-r.Context().Done():
			timer.Stop()
			return true
		}
	}
	if f.ResetConnection {
		abortConnection(w)
		return true
	}
	status := f.Status
	if f.Retired && status == 0 {
		status = http.StatusGone
	}
	if status == 0 && f.Body == "" {
		return false
	}
	if status == 0 {
		status = http.StatusOK
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Body != "" {
		ct := f.ContentType
		if ct == "" {
			ct = "application/json; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(f.Body))
		return true
	}
	if f.ContentType != "" {
		w.Header().Set("Content-Type", f.ContentType)
	}
	writeStatus(status)
	return true
}

// writeDistorted writes a successful body, applying Malformed and Truncated.
func writeDistorted(w http.ResponseWriter, status int, contentType string, body []byte, f Fault) {
	if f.ContentType != "" {
		contentType = f.ContentType
	}
	if f.Malformed {
		body = malformed(body)
	}
	w.Header().Set("Content-Type", contentType)
	if f.Truncated {
		w.WriteHeader(status)
		_, _ = w.Write(body[:truncateAt(body)])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		abortConnection(w)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// malformed turns a JSON body into something a JSON decoder rejects while
// still looking like the start of a normal answer: a dangling comma and an
// unterminated object, as a broken proxy or a serialisation bug produce.
func malformed(body []byte) []byte {
	cut := body[:truncateAt(body)]
	out := make([]byte, 0, len(cut)+16)
	out = append(out, cut...)
	return append(out, ",,}<EOF>"...)
}

// truncateAt picks the middle of the body as the cut point, which lands
// inside an entity on any page that has one.
func truncateAt(body []byte) int {
	if len(body) < 2 {
		return len(body)
	}
	return len(body) / 2
}

// abortConnection drops the connection under the handler. On HTTP/1.1 it
// hijacks the connection and closes the TCP socket with linger 0, which sends
// a RST; HTTP/2 has no hijacking, so the stream is reset via ErrAbortHandler
// (net/http recovers it silently).
func abortConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			raw := conn
			if tc, ok := conn.(*tls.Conn); ok {
				raw = tc.NetConn()
			}
			if tcp, ok := raw.(*net.TCPConn); ok {
				_ = tcp.SetLinger(0)
			}
			_ = raw.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
