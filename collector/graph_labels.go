package collector

import (
	"unicode"
	"unicode/utf8"
)

// graphLabel writes a Microsoft Graph enum value as a label value, by the
// rule every Graph back end follows: the first letter upper-cased, the rest
// as sent, "" (null or absent) as is. Graph spells its enums in camelCase
// (inProgress, truePositive) where Defender's own APIs use PascalCase
// (InProgress, TruePositive); this makes the words that both APIs share
// come out the same, so that rules and dashboards work on either back end.
// Nothing else is mapped: a member Graph names differently stays Graph's.
func graphLabel(v string) string {
	if v == "" {
		return ""
	}
	if c := v[0]; c < utf8.RuneSelf {
		if c >= 'a' && c <= 'z' {
			return string(rune(c-'a'+'A')) + v[1:]
		}
		return v
	}
	r, size := utf8.DecodeRuneInString(v)
	if up := unicode.ToUpper(r); up != r && r != utf8.RuneError {
		return string(up) + v[size:]
	}
	return v
}

// maxLabelCache bounds a labelCache: enum values are few, but category is a
// free string and a broken answer could send any number of values.
const maxLabelCache = 4096

// labelCache memoises graphLabel, so that an entity costs a map lookup per
// label instead of a new string, and every alert with the same value shares
// one string.
type labelCache struct {
	m map[string]string
}

func (c *labelCache) get(v string) string {
	if s, ok := c.m[v]; ok {
		return s
	}
	s := graphLabel(v)
	if c.m == nil {
		c.m = map[string]string{}
	}
	if len(c.m) < maxLabelCache {
		c.m[v] = s
	}
	return s
}
