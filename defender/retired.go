package defender

import (
	"errors"
	"net/http"
	"strings"
)

// The MDE and XDR APIs are being retired: after 2027-02-01 they "will no
// longer function" (Microsoft 365 Message Center MC1220762), and Microsoft
// Graph's security API is the way on. How a retired endpoint answers is not
// documented, so an answer counts as "retired" when it is an HTTP 410 Gone,
// or another 4xx whose error code or message says so (retired, deprecated,
// decommissioned, "no longer supported/available/functions"). A 401 or a
// 429 never does: their messages ("the token is no longer valid") are about
// the caller, not the API. Graph answers are never classified so: Graph is
// the replacement, and its own retirements are other endpoints'.

// ErrAPIRetired matches (errors.Is) an answer of the MDE or XDR API saying
// that the API is retired; the error is a *RetiredError.
var ErrAPIRetired = errors.New("the API is retired")

// RetiredError is an MDE or XDR answer that says the API is gone. Its
// message is the answer's, as bounded as any *APIError's; errors.As still
// finds the *APIError, so IsStatus works on it.
type RetiredError struct {
	API API // APIMDE or APIXDR
	Err *APIError
}

func (e *RetiredError) Error() string        { return e.Err.Error() }
func (e *RetiredError) Unwrap() error        { return e.Err }
func (e *RetiredError) Is(target error) bool { return target == ErrAPIRetired }

// retiredAnswer reports whether an error answer of api says the API is
// retired.
func retiredAnswer(api API, e *APIError) bool {
	if api != APIMDE && api != APIXDR {
		return false
	}
	switch {
	case e.Status == http.StatusGone:
		return true
	case e.Status < 400 || e.Status >= 500, e.Status == http.StatusUnauthorized, e.Status == http.StatusTooManyRequests:
		return false
	}
	return saysRetired(e.Code + " " + e.Message)
}

// retiredWords name a retirement wherever they appear; noLongerWords do
// only after "no longer", since "no longer" alone also says that a machine
// or an indicator no longer exists.
var (
	retiredWords  = []string{"retire", "deprecat", "decommission", "sunset"}
	noLongerWords = []string{"support", "available", "function", "in service", "served"}
)

func saysRetired(text string) bool {
	t := strings.ToLower(text)
	for _, w := range retiredWords {
		if strings.Contains(t, w) {
			return true
		}
	}
	_, rest, ok := strings.Cut(t, "no longer")
	if !ok {
		return false
	}
	for _, w := range noLongerWords {
		if strings.Contains(rest, w) {
			return true
		}
	}
	return false
}
