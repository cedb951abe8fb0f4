package defender

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors, for errors.Is. The errors returned carry the details
// (endpoint, limit, host) in their message.
var (
	// ErrBudgetExhausted: the family's per-minute or per-hour call budget is
	// used up and the next slot frees after the context's deadline.
	ErrBudgetExhausted = errors.New("call budget exhausted")
	// ErrResponseTooLarge: a response body exceeded Options.MaxResponseBytes.
	ErrResponseTooLarge = errors.New("response too large")
	// ErrForeignNextLink: an @odata.nextLink pointed to another scheme, host
	// or port than the request; it is not followed, so no token leaves.
	ErrForeignNextLink = errors.New("@odata.nextLink points to another origin")
	// ErrNextLinkLoop: an @odata.nextLink repeated within one listing.
	ErrNextLinkLoop = errors.New("@odata.nextLink loop")
	// ErrThrottled: Defender answered 429 and the wait it asked for does not
	// fit before the deadline, or the retries ran out. Also matches an
	// *APIError with Status 429.
	ErrThrottled = errors.New("throttled by Defender (HTTP 429)")
	// ErrUnexpectedContentType: a response that should be JSON was not.
	ErrUnexpectedContentType = errors.New("unexpected content type")
)

// maxMessageLen bounds the free text copied from a server's error answer
// into an error message: enough for Defender's and Entra's messages, short
// enough for a log line.
const maxMessageLen = 300

// APIError is a non-2xx answer from a Defender or Graph API, decoded from
// the documented {"error":{"code","message","target"}} shape when present.
type APIError struct {
	Method   string
	Endpoint string // path template, e.g. /api/alerts
	Status   int    // HTTP status
	Code     string // Defender's error code, e.g. "Forbidden", "ODataError"
	Message  string // Defender's free text, trimmed
	Target   string // Defender's correlation id, for support cases
	// RetryAfter is what a 429 or 503 asked for; zero when absent.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteByte(' ')
	}
	b.WriteString(e.Endpoint)
	fmt.Fprintf(&b, ": HTTP %d", e.Status)
	if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	if e.Code != "" && e.Code != http.StatusText(e.Status) {
		b.WriteString(": " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Target != "" {
		b.WriteString(" (target " + e.Target + ")")
	}
	return b.String()
}

// Is lets errors.Is(err, ErrThrottled) match a 429.
func (e *APIError) Is(target error) bool {
	return target == ErrThrottled && e.Status == http.StatusTooManyRequests
}

// IsStatus reports whether err is (or wraps) an *APIError with that status,
// e.g. IsStatus(err, 403) for a missing permission.
func IsStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}

// AuthErrorKind says which part of getting a token failed.
type AuthErrorKind string

const (
	// AuthConfig: the credential could not be built (bad certificate file,
	// no credential kind, ...). Returned by NewClient.
	AuthConfig AuthErrorKind = "config"
	// AuthCredential: a credential input could not be read at acquisition
	// time (the federated token file).
	AuthCredential AuthErrorKind = "credential"
	// AuthRejected: the authority answered with an OAuth error
	// (invalid_client, unauthorized_client, invalid_scope, ...).
	AuthRejected AuthErrorKind = "rejected"
	// AuthUnavailable: the authority could not be reached or failed
	// (network, timeout, 5xx, malformed answer).
	AuthUnavailable AuthErrorKind = "unavailable"
)

// AuthError is a failure to get a token. Its message is readable and never
// holds the client secret, a certificate password, an assertion or a token:
// the authority's answer is reduced to its error code and the first line of
// its description.
type AuthError struct {
	Tenant   string // the tenant label
	Resource string // the token audience, e.g. https://api.securitycenter.microsoft.com
	Kind     AuthErrorKind
	Status   int    // HTTP status from the authority; 0 when none
	Code     string // OAuth error, e.g. invalid_client
	Detail   string // e.g. "AADSTS7000215: Invalid client secret provided."
	Err      error  // the cause, with anything secret-bearing replaced
}

func (e *AuthError) Error() string {
	var b strings.Builder
	if e.Resource != "" {
		b.WriteString("token for " + e.Resource + ": ")
	} else {
		b.WriteString("credential: ")
	}
	switch {
	case e.Code != "" || e.Detail != "":
		b.WriteString(strings.TrimSpace(e.Code + " " + e.Detail))
		if e.Status != 0 {
			fmt.Fprintf(&b, " (HTTP %d)", e.Status)
		}
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString(string(e.Kind))
	}
	return b.String()
}

func (e *AuthError) Unwrap() error { return e.Err }

// trimMessage makes server-provided text fit for one log line: first line
// only, control characters gone, at most maxMessageLen bytes on a rune
// boundary.
func trimMessage(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return ClipLine(strings.TrimSpace(s), maxMessageLen)
}

// ClipLine makes s one log line of at most limit bytes (and "…"): control
// characters become spaces, and the tail is cut at a character boundary.
// It is for text a server sent that goes into an error or a log line.
func ClipLine(s string, limit int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// boundedError carries an error whose message quotes what a server sent
// (a 5 MB timestamp string, a key, a number literal) cut to one log line;
// errors.Is and errors.As still see the original.
type boundedError struct {
	msg string
	err error
}

func (e *boundedError) Error() string { return e.msg }
func (e *boundedError) Unwrap() error { return e.err }

// maxDecodeErrorLen bounds a decode error's message: room for the
// endpoint, the page and the decoder's own words around a quoted value.
const maxDecodeErrorLen = 2 * maxMessageLen

// bounded returns err as it is when its message is one line of at most
// maxDecodeErrorLen bytes, and otherwise wrapped with a message that is:
// control characters become spaces and the tail is cut.
func bounded(err error) error {
	msg := err.Error()
	clean := ClipLine(strings.ToValidUTF8(msg, "\uFFFD"), maxDecodeErrorLen)
	if clean == msg {
		return err
	}
	return &boundedError{msg: clean, err: err}
}
