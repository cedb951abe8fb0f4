package config

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// The config is decoded by walking yaml.Node trees rather than with struct tags, because only the
// node knows the line a value came from, and every error must name it. Strictness (unknown keys,
// duplicate keys, wrong types) is enforced here for the same reason.

// maxSteps bounds the work done on one document. yaml.v3 keeps aliases as pointers, so a short file
// of aliases to aliases (or merge keys of merge keys) can describe an exponentially large tree; this
// budget turns that into an error instead of a hang.
const maxSteps = 1 << 18

// maxMergeDepth limits merge keys of merged mappings; real configs use one level.
const maxMergeDepth = 8

type decoder struct {
	file     string // name used in messages
	dir      string // relative file paths in the config are resolved against this
	getenv   func(string) (string, bool)
	readFile func(string) ([]byte, error)
	errs     errorList
	steps    int
	aborted  bool
	// fullLoad is where collectors.alerts.full_load_interval was written, if it was
	// (checkFullLoad compares it with the tenants' alerts intervals).
	fullLoad *fullLoadSetting

	// credentialFilesPerTenant: Options.CredentialFilesPerTenant.
	credentialFilesPerTenant bool
}

func (d *decoder) errAt(at pos, err error, format string, args ...any) {
	d.errs = append(d.errs, &posError{at: at, msg: fmt.Sprintf(format, args...), err: err})
}

func (d *decoder) posOf(n *yaml.Node, path string) pos {
	p := pos{file: d.file, path: path}
	if n != nil {
		p.line = n.Line
	}
	return p
}

func (d *decoder) errf(n *yaml.Node, path, format string, args ...any) {
	d.errAt(d.posOf(n, path), nil, format, args...)
}

// step charges one unit of work; false means the budget is spent and decoding should stop.
func (d *decoder) step() bool {
	if d.aborted {
		return false
	}
	d.steps++
	if d.steps > maxSteps {
		d.aborted = true
		d.errAt(pos{file: d.file}, errTooComplex, "%v", errTooComplex)
		return false
	}
	return true
}

// parse returns the root node of the only document, or nil for an empty file.
func (d *decoder) parse(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err != io.EOF {
			d.yamlError(data, err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == io.EOF:
	case err != nil:
		d.yamlError(data, err)
		return nil
	case len(extra.Content) > 0 && !isNull(extra.Content[0]):
		// yaml.Unmarshal would silently drop this document; a user who split the config in two would
		// then wonder where half of it went.
		d.errf(extra.Content[0], "", "a second YAML document starts here: the config must be a single document (remove the '---' separator)")
		return nil
	}
	if len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns a yaml.v3 syntax error into our file:line form. yaml.v3's own line numbers cannot
// be trusted: parser errors count from 0, scanner errors from 1, and an error on the first line has
// no line at all. So the line is found instead as the last line of the shortest prefix of the file
// that fails the same way, and yaml.v3's number is only a fallback.
func (d *decoder) yamlError(data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if l := locateSyntaxError(data, err.Error()); l > 0 {
		line = l
	}
	d.errAt(pos{file: d.file, line: line}, err, "%s", msg)
}

func locateSyntaxError(data []byte, msg string) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	fails := func(k int) bool {
		var n yaml.Node
		err := yaml.Unmarshal(bytes.Join(lines[:k], nil), &n)
		return err != nil && err.Error() == msg
	}
	if !fails(len(lines)) {
		return 0
	}
	lo, hi := 1, len(lines) // smallest k in [lo, hi] with fails(k)
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// resolve follows aliases; yaml.v3 leaves them unexpanded in a Node tree.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 16 || !d.step() {
			return nil
		}
		n = n.Alias
	}
	return n
}

// describe names a node's kind for "expected X, got Y" messages. It never includes the value: the
// value may be a secret in the wrong place.
func describe(n *yaml.Node) string {
	switch {
	case n == nil || isNull(n):
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	default:
		return "a single value"
	}
}

type pair struct {
	key  string
	k, v *yaml.Node
	path string
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// mapping returns the known key/value pairs of a mapping, with merge keys (<<: *anchor) applied,
// and reports unknown and duplicate keys. A null node is an empty mapping, so `collectors:` with
// nothing under it means "all defaults". ok is false when n is not a mapping at all.
func (d *decoder) mapping(n *yaml.Node, path string, known []string, hint func(key string) string) (pairs []pair, ok bool) {
	n = d.resolve(n)
	if isNull(n) {
		return nil, !d.aborted
	}
	if n.Kind != yaml.MappingNode {
		if len(known) == 0 {
			d.errf(n, path, "expected a mapping, got %s", describe(n))
		} else {
			d.errf(n, path, "expected a mapping of keys (%s), got %s", strings.Join(known, ", "), describe(n))
		}
		return nil, false
	}
	all := d.flatten(n, path, 0)
	for _, p := range all {
		if known != nil && !contains(known, p.key) {
			msg := fmt.Sprintf("unknown key (known: %s)", strings.Join(known, ", "))
			if h := hint(p.key); h != "" {
				msg += "; " + h
			} else if s := suggest(p.key, known); s != "" {
				msg += "; did you mean " + s + "?"
			}
			d.errf(p.k, p.path, "%s", msg)
			continue
		}
		pairs = append(pairs, p)
	}
	return pairs, !d.aborted
}

func noHint(string) string { return "" }

func (d *decoder) flatten(n *yaml.Node, path string, depth int) []pair {
	var explicit []pair
	var merged []*yaml.Node
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !d.step() {
			return nil
		}
		k, v := d.resolve(n.Content[i]), n.Content[i+1]
		if k == nil {
			continue
		}
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errf(k, path, "keys must be plain names, got %s as a key", describe(k))
			continue
		}
		p := pair{key: k.Value, k: k, v: v, path: joinPath(path, k.Value)}
		if line, dup := first[k.Value]; dup {
			d.errf(k, p.path, "duplicate key (first set on line %d): keep one", line)
			continue
		}
		first[k.Value] = k.Line
		explicit = append(explicit, p)
	}
	if len(merged) == 0 {
		return explicit
	}
	if depth >= maxMergeDepth {
		d.errf(n, path, "merge keys (<<) nested more than %d deep", maxMergeDepth)
		return explicit
	}
	// Explicit keys win over merged ones, and an earlier merged mapping wins over a later one, as
	// the YAML merge-key spec says.
	out := explicit
	for _, m := range merged {
		m = d.resolve(m)
		var sources []*yaml.Node
		switch {
		case m == nil:
			continue
		case m.Kind == yaml.MappingNode:
			sources = []*yaml.Node{m}
		case m.Kind == yaml.SequenceNode:
			for _, s := range m.Content {
				sources = append(sources, d.resolve(s))
			}
		default:
			d.errf(m, path, "a merge key (<<) needs a mapping or a list of mappings, got %s", describe(m))
		}
		for _, s := range sources {
			if s == nil || s.Kind != yaml.MappingNode {
				d.errf(m, path, "a merge key (<<) needs a mapping or a list of mappings, got %s", describe(s))
				continue
			}
			for _, p := range d.flatten(s, path, depth+1) {
				if _, dup := first[p.key]; dup {
					continue
				}
				first[p.key] = p.k.Line
				out = append(out, p)
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// suggest returns the known key closest to a misspelt one, when it is close enough to be a typo.
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(strings.ToLower(key), k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// sequence returns the items of a list (aliases resolved); null is an empty list.
func (d *decoder) sequence(n *yaml.Node, path, what string) ([]*yaml.Node, bool) {
	n = d.resolve(n)
	if isNull(n) {
		return nil, !d.aborted
	}
	if n.Kind != yaml.SequenceNode {
		d.errf(n, path, "expected a list of %s, got %s", what, describe(n))
		return nil, false
	}
	items := make([]*yaml.Node, 0, len(n.Content))
	for _, c := range n.Content {
		if !d.step() {
			return nil, false
		}
		if c = d.resolve(c); c != nil {
			items = append(items, c)
		}
	}
	return items, true
}

// scalar returns a single value. Any scalar is accepted as a string (`name: 2024` is the name "2024");
// null is "".
func (d *decoder) scalar(n *yaml.Node, path, what string) (string, bool) {
	n = d.resolve(n)
	if isNull(n) {
		return "", !d.aborted
	}
	if n.Kind != yaml.ScalarNode {
		d.errf(n, path, "expected %s, got %s", what, describe(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) boolean(n *yaml.Node, path string) (bool, bool) {
	n = d.resolve(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		if b, err := strconv.ParseBool(n.Value); err == nil {
			return b, true
		}
	}
	if n != nil && n.Kind == yaml.ScalarNode {
		d.errf(n, path, "expected true or false, got %q", truncate(n.Value))
	} else {
		d.errf(n, path, "expected true or false, got %s", describe(n))
	}
	return false, false
}

// duration parses Prometheus duration syntax (30s, 5m, 1h, 7d); the check for > 0 is the caller's,
// which knows what the duration is for.
func (d *decoder) duration(n *yaml.Node, path string) (time.Duration, bool) {
	n = d.resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
		d.errf(n, path, "expected a duration like 30s, 5m, 1h or 7d, got %s", describe(n))
		return 0, false
	}
	v, err := model.ParseDuration(n.Value)
	if err != nil {
		d.errAt(d.posOf(n, path), err, "%q is not a duration: use a number and a unit (ms, s, m, h, d, w, y), e.g. 30s, 5m, 1h, 7d", truncate(n.Value))
		return 0, false
	}
	return time.Duration(v), true
}

func (d *decoder) positive(n *yaml.Node, path string) (time.Duration, bool) {
	v, ok := d.duration(n, path)
	if ok && v <= 0 {
		d.errf(n, path, "must be greater than 0")
		return 0, false
	}
	return v, ok
}

// truncate keeps echoed values readable in an error line.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}

// formatDuration prints a duration in the largest unit that is exact, so that 720h reads 30d, not
// model.Duration's 4w2d, and the result can be pasted back into the config.
func formatDuration(v time.Duration) string {
	day := 24 * time.Hour
	switch {
	case v == 0:
		return "0s"
	case v%day == 0:
		return strconv.FormatInt(int64(v/day), 10) + "d"
	case v%time.Hour == 0:
		return strconv.FormatInt(int64(v/time.Hour), 10) + "h"
	case v%time.Minute == 0:
		return strconv.FormatInt(int64(v/time.Minute), 10) + "m"
	case v%time.Second == 0:
		return strconv.FormatInt(int64(v/time.Second), 10) + "s"
	}
	return model.Duration(v).String()
}

// oneOf returns a scalar that must be one of choices, naming them all when it is not.
func (d *decoder) oneOf(n *yaml.Node, path string, choices []string) (string, bool) {
	want := strings.Join(choices, " or ")
	v, ok := d.scalar(n, path, want)
	if !ok {
		return "", false
	}
	if !contains(choices, v) {
		d.errf(d.resolve(n), path, "%q is not one of the choices: use %s", truncate(v), want)
		return "", false
	}
	return v, true
}
