package defendertest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Two error dialects: the APIs answer Defender's OData shape, the authority
// answers Entra's OAuth shape. Clients parse both differently, so the fake
// must not mix them up.

// writeAPIError writes {"error":{"code","message","target"}} as Defender does;
// target is a fresh correlation GUID per answer.
func writeAPIError(w http.ResponseWriter, status int, code, message string) {
	body := struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Target  string `json:"target"`
		} `json:"error"`
	}{}
	body.Error.Code = code
	body.Error.Message = message
	body.Error.Target = newRandomGUID()
	setDefaultContentType(w)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// setDefaultContentType sets JSON unless a fault already chose a type.
func setDefaultContentType(w http.ResponseWriter) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
}

// apiErrorCode is the Defender error code for a status the fault switches
// produce.
func apiErrorCode(status int) string {
	switch {
	case status == http.StatusBadRequest:
		return "BadRequest"
	case status == http.StatusUnauthorized:
		return "Unauthorized"
	case status == http.StatusForbidden:
		return "Forbidden"
	case status == http.StatusNotFound:
		return "NotFound"
	case status == http.StatusTooManyRequests:
		return "TooManyRequests"
	case status >= 500:
		return "InternalServerError"
	}
	return http.StatusText(status)
}

// retiredAPIMessage is the fake's answer of a retired API (Fault.Retired).
// Microsoft has not said how a retired endpoint answers; this says it the
// way the retirement notice does.
const retiredAPIMessage = "This API has been retired and no longer functions. Use the Microsoft Graph security API instead."

func apiErrorMessage(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "Rate limit is exceeded. Try again later."
	case http.StatusUnauthorized:
		return "Unauthorized (invalid or expired authorization header)."
	case http.StatusForbidden:
		return "Forbidden (valid token but insufficient permission for the action)."
	case http.StatusGone:
		return retiredAPIMessage
	}
	if status >= 500 {
		return "An error occurred while processing the request; retry the operation."
	}
	return http.StatusText(status)
}

// entraError is a token-endpoint failure. description must never contain a
// submitted credential: callers pass only fixed text and client IDs.
type entraError struct {
	status      int
	code        string // OAuth error: invalid_client, invalid_scope, ...
	aadsts      int
	description string
}

func (e *entraError) write(w http.ResponseWriter, r *http.Request) {
	trace := newRandomGUID()
	corr := r.Header.Get("client-request-id") // Entra echoes the client's id
	if !isGUID(corr) {
		corr = newRandomGUID()
	}
	now := time.Now().UTC()
	ts := now.Format("2006-01-02 15:04:05Z")
	body := map[string]any{
		"error": e.code,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
			e.aadsts, e.description, trace, corr, ts),
		"error_codes":    []int{e.aadsts},
		"timestamp":      ts,
		"trace_id":       trace,
		"correlation_id": corr,
		"error_uri":      "https://login.microsoftonline.com/error?code=" + strconv.Itoa(e.aadsts),
	}
	setDefaultContentType(w)
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(body)
}

// entraErrorFor is the Entra body a status fault on the authority produces.
func entraErrorFor(status int) *entraError {
	switch {
	case status == http.StatusBadRequest:
		return &entraError{status, "invalid_request", 900144, "The request is invalid (injected fault)."}
	case status == http.StatusUnauthorized:
		return &entraError{status, "invalid_client", 7000215, "Invalid client secret provided (injected fault)."}
	case status == http.StatusTooManyRequests:
		return &entraError{status, "temporarily_unavailable", 90025, "Too many requests; the service is throttling (injected fault)."}
	case status >= 500:
		return &entraError{status, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again (injected fault)."}
	}
	return &entraError{status, "invalid_request", 90000, http.StatusText(status) + " (injected fault)."}
}

// newRandomGUID is for correlation and trace IDs, which are random on the
// real service too; data IDs come from the seeded generator instead.
func newRandomGUID() string {
	return formatGUID(rand.Uint64(), rand.Uint64())
}

func formatGUID(hi, lo uint64) string {
	// Version 4, RFC 4122 variant, so the value looks like Entra's.
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(0xc<<60) | 0x8<<60
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, (hi>>16)&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
