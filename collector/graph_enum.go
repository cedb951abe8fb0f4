package collector

import (
	"unicode"
	"unicode/utf8"
)

// graphEnumLabel turns a Graph enum member into a label value: the first
// letter upper-cased, the rest as sent (high -> High, notHealthyLow ->
// NotHealthyLow, unknownFutureValue -> UnknownFutureValue), and null or
// absent stays "". The MDE and XDR APIs spell their enums that way, so a
// rule or a dashboard reads the same whichever back end a collector uses.
func graphEnumLabel(v string) string {
	r, size := utf8.DecodeRuneInString(v)
	if size == 0 || !unicode.IsLower(r) {
		return v // "", already upper-case, or not a letter
	}
	return string(unicode.ToUpper(r)) + v[size:]
}
