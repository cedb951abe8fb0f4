package defendertest

import "strconv"

// JSON writers the posture entities need beyond jsonwrite.go: numbers that
// are never null, strings that are "" rather than null (the export APIs
// write empty strings), and timestamps in other spellings.

func appendKey(b []byte, name string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

func appendIntField(b []byte, name string, v int64) []byte {
	return strconv.AppendInt(appendKey(b, name), v, 10)
}

// appendFloat writes v the way .NET serialises a double: the shortest
// round-trip form, so 340 is 340 and 38.17 is 38.17.
func appendFloat(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

func appendFloatField(b []byte, name string, v float64) []byte {
	return appendFloat(appendKey(b, name), v)
}

// appendNullableFloatField writes null when ok is false.
func appendNullableFloatField(b []byte, name string, v float64, ok bool) []byte {
	b = appendKey(b, name)
	if !ok {
		return append(b, "null"...)
	}
	return appendFloat(b, v)
}

// appendEmptyStringField writes "" for an empty value instead of null.
func appendEmptyStringField(b []byte, name, v string) []byte {
	return appendString(appendKey(b, name), v)
}

// appendTimeLayoutField writes t with layout, or null for the zero Time.
func appendTimeLayoutField(b []byte, name string, t Time, layout string) []byte {
	b = appendKey(b, name)
	if t == 0 {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.Time().AppendFormat(b, layout)
	return append(b, '"')
}

func appendInts(b []byte, list []int64) []byte {
	b = append(b, '[')
	for i, v := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, v, 10)
	}
	return append(b, ']')
}
