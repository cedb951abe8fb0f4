package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// pos says where a value came from, so that an error can send the user to the right line of the right
// file, or to the environment variable that needs fixing.
type pos struct {
	file string // the config file as given, or "environment"
	line int    // 0 when unknown (environment, file-level problems)
	path string // key path like tenants[1].client_secret_file, or the variable name
}

func (p pos) String() string {
	var b strings.Builder
	if p.file != "" {
		b.WriteString(p.file)
		if p.line > 0 {
			fmt.Fprintf(&b, ":%d", p.line)
		}
	}
	if p.path != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(p.path)
	}
	return b.String()
}

// posError is one problem in the configuration. It keeps the underlying error (a *fs.PathError for a
// missing file, say) so callers can still use errors.Is.
type posError struct {
	at  pos
	msg string
	err error
}

func (e *posError) Error() string {
	if s := e.at.String(); s != "" {
		return s + ": " + e.msg
	}
	return e.msg
}

func (e *posError) Unwrap() error { return e.err }

// maxErrors keeps a pathological file (a fuzzer's, or a generated one gone wrong) from producing an
// error message that nobody can read.
const maxErrors = 50

// errorList reports every problem at once, in file order: fixing a config one error per restart is
// the experience this package exists to avoid.
type errorList []*posError

func (l errorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i == maxErrors {
			fmt.Fprintf(&b, "\n... and %d more errors", len(l)-maxErrors)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

func (l errorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// finish sorts and de-duplicates: a bad value in `defaults:` is inherited by every tenant and would
// otherwise be reported once per tenant.
func (l errorList) finish() error {
	if len(l) == 0 {
		return nil
	}
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].at, l[j].at
		if a.file != b.file {
			// The config file's errors first, then the environment's.
			return a.file != envSource && b.file == envSource
		}
		// Errors without a line (about the file as a whole) come after the specific ones.
		if (a.line == 0) != (b.line == 0) {
			return b.line == 0
		}
		return a.line < b.line
	})
	// The key path is left out of the comparison when the line is known: a value behind a YAML
	// alias is reached through several paths but sits on one line, and needs fixing once.
	type key struct {
		file string
		line int
		path string
		msg  string
	}
	seen := make(map[key]bool, len(l))
	out := l[:0]
	for _, e := range l {
		k := key{e.at.file, e.at.line, e.at.path, e.msg}
		if k.line > 0 {
			k.path = ""
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	if len(out) == 1 {
		return out[0]
	}
	return out
}

var errTooComplex = errors.New("the document is too complex (too many aliases or merge keys)")
