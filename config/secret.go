package config

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

const redacted = "<secret>"

// Secret holds a credential. Every way of printing or serialising it (fmt verbs, YAML, JSON, text
// marshalling as used by loggers) yields "<secret>", so a Tenant can be logged or dumped without a
// leak. Use string(s) where the value is really needed: at the token request.
type Secret string

func (s Secret) String() string { return redacted }

// Format makes every fmt verb print <secret>. String alone is not enough: fmt skips Stringer for
// verbs like %d and then prints the raw string inside its %!d(...) complaint.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// MarshalYAML is what --config.check prints.
func (s Secret) MarshalYAML() (any, error) { return redacted, nil }

// MarshalJSON covers JSON logging and debug endpoints.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText covers logfmt encoders and anything else that prefers encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expandEnv replaces ${NAME} with the value of the environment variable NAME, so a secret can be
// injected by the runtime without being written into the file; $${ stands for a literal ${. A lone
// $ is kept as is, since generated secrets may contain one. An unset variable is an error rather
// than "", because an empty secret would only fail later, at Entra, with a less helpful message.
// Errors name the variable but never include the text around it, which may be the secret itself.
func expandEnv(s string, getenv func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", errors.New("has a ${ without a closing }: write ${NAME} to read the environment variable NAME, or $${ for a literal ${")
			}
			name := s[i+2 : i+2+end]
			if !envNameRE.MatchString(name) {
				return "", errors.New("has a ${...} that is not a variable name: write ${NAME} with letters, digits and _, or $${ for a literal ${")
			}
			v, ok := getenv(name)
			if !ok {
				return "", fmt.Errorf("environment variable %s is not set (referenced as ${%s}): set it, or read the secret from a *_file key instead", name, name)
			}
			b.WriteString(v)
			i += 3 + end
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), nil
}

// trimSecretFile drops the trailing newline that editors and `echo` add; a secret never ends in one.
func trimSecretFile(b []byte) string {
	return strings.TrimRight(string(b), "\r\n")
}
