package defender

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// A decode error quotes what the server sent; however long that is, the
// error that reaches the log is one bounded line, and still says where.
func TestDecodeErrorsAreBounded(t *testing.T) {
	long := strings.Repeat("y", 5000)
	num := strings.Repeat("1", 5000)
	for name, body := range map[string]string{
		"long timestamp":        `{"value":[{"lastSeen":"` + long + `","alertCreationTime":"` + long + `"}]}`,
		"newline in a value":    `{"value":[{"lastSeen":"2026-01-01\n` + long + `"}]}`,
		"long nextLink":         `{"value":[],"@odata.nextLink":"https://[` + long + `"}`,
		"hunting: long key":     `{"` + long + `":[}`,
		"hunting: long results": `{"results":"` + long + `"}`,
		"hunting: long number":  `{"results":` + num + `}`,
		"get: long timestamp":   `{"t":"` + long + `"}`,
		"post: long number":     `{"n":` + num + `}`,
	} {
		t.Run(name, func(t *testing.T) {
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, body) })
			c, _, _ := testClient(t, ts, nil)
			var err error
			var obj struct {
				T Time `json:"t"`
				N int  `json:"n"`
			}
			switch {
			case strings.HasPrefix(name, "hunting"):
				_, err = c.RunHunting(context.Background(), HuntingGraph, "T | count", "", nil)
			case strings.HasPrefix(name, "get"):
				err = Get(context.Background(), c, alertsReq, &obj)
			case strings.HasPrefix(name, "post"):
				err = c.PostJSON(context.Background(), Request{API: APIMDE, Family: FamilyMDE, Endpoint: "/api/alerts", Path: "/api/alerts"}, struct{}{}, &obj)
			default:
				_, err = List(context.Background(), c, alertsReq, func(*Machine) error { return nil })
			}
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if len(msg) > maxDecodeErrorLen+len("…") || strings.ContainsAny(msg, "\r\n") {
				t.Errorf("error is %d bytes (max %d) or not one line: %.120q…", len(msg), maxDecodeErrorLen, msg)
			}
			if !strings.Contains(msg, "POST /v1.0/security/runHuntingQuery: decode") && !strings.Contains(msg, "/api/alerts page 1") &&
				!strings.Contains(msg, "/api/alerts: decode") {
				t.Errorf("error does not say where: %.200s", msg)
			}
		})
	}
}

func TestBoundedKeepsTheChain(t *testing.T) {
	short := errors.New("short")
	if bounded(short) != short {
		t.Error("a short one-line error was wrapped")
	}
	inner := &APIError{Status: 500, Message: strings.Repeat("x", 1000)}
	err := bounded(errors.Join(inner, errors.New("line\nbreak")))
	var ae *APIError
	if !errors.As(err, &ae) || ae != inner || strings.Contains(err.Error(), "\n") {
		t.Errorf("bounded lost the chain or kept the newline: %v", err)
	}
}
