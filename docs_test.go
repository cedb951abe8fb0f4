package main

// A link that points nowhere fails quietly: GitHub renders it, and the
// reader who follows it lands on the top of a page, or on a 404, in the
// middle of an incident. These tests resolve every relative link and anchor
// of the Markdown documents, and every runbook_url of the alerting rules,
// against the files of this checkout and the anchors GitHub gives their
// headings.

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// runbookBase is where every runbook_url must point: the runbooks on the
// main branch, one section per alert.
const (
	repoBlobMain = "https://github.com/defender-exporter/defender_exporter/blob/main/"
	runbookBase  = repoBlobMain + "docs/runbooks.md#"
)

// docsMarkdown lists the Markdown documents whose links are checked.
func docsMarkdown(t *testing.T, root string) []string {
	t.Helper()
	files := []string{"README.md", "CHANGELOG.md", "SECURITY.md"}
	more, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(more) == 0 {
		t.Fatal("no docs/*.md: the documentation lives in docs/")
	}
	for _, m := range more {
		rel, err := filepath.Rel(root, m)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, filepath.ToSlash(rel))
	}
	return files
}

func TestDocsLinksResolve(t *testing.T) {
	c := newDocChecker(".")
	for _, f := range docsMarkdown(t, ".") {
		problems, err := c.checkMarkdown(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Error(p)
		}
	}
}

func TestDocsRunbookURLsResolve(t *testing.T) {
	c := newDocChecker(".")
	for _, f := range []string{rulesFile, "deploy/kubernetes/prometheusrule.yaml", "alerts.rules.test.yml"} {
		problems, err := c.checkRunbookURLs(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Error(p)
		}
	}
	// The other way round: a runbook whose alert was renamed or removed
	// would mislead whoever finds it.
	alerts, err := alertNames(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("docs/runbooks.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range markdownHeadings(string(src)) {
		if h.level == 2 && strings.HasPrefix(h.text, "Defender") && !alerts[h.text] {
			t.Errorf("docs/runbooks.md: section %q names no alert of %s", h.text, rulesFile)
		}
	}
}

// TestDocsCheckerFindsBrokenLinks proves the checker fails on what it is
// meant to catch, and passes what GitHub resolves.
func TestDocsCheckerFindsBrokenLinks(t *testing.T) {
	root := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("README.md", "# Front page\n\n"+
		"[ok](docs/guide.md) [ok](docs/guide.md#back-ends-the-api-option) [ok](#front-page) [ok](docs/) [ok](LICENSE)\n"+
		"[ok](https://example.com/nowhere.md) [ok](docs/guide.md#setup-1) [ok](<docs/guide.md>) ![ok](docs/guide.md \"title\")\n"+
		"[missing file](docs/nowhere.md)\n"+
		"[missing anchor](docs/guide.md#no-such-section)\n"+
		"[missing local anchor](#back-page)\n"+
		"[outside](../etc/passwd)\n"+
		"[ref]: docs/gone.md\n"+
		"`[in code](docs/code-span.md)`\n"+
		"```\n[in a fence](docs/fenced.md)\n```\n")
	write("LICENSE", "text\n")
	write("docs/guide.md", "# Guide\n\n## Back ends: the `api` option\n\n## Setup\n\n## Setup\n\n"+
		"[up](../README.md#front-page) [wrong case](../README.md#Front-Page)\n")

	c := newDocChecker(root)
	var got []string
	for _, f := range []string{"README.md", "docs/guide.md"} {
		problems, err := c.checkMarkdown(f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, problems...)
	}
	want := []string{
		`README.md:5: link "docs/nowhere.md": no such file`,
		`README.md:6: link "docs/guide.md#no-such-section": docs/guide.md has no heading with the anchor "no-such-section"`,
		`README.md:7: link "#back-page": README.md has no heading with the anchor "back-page"`,
		`README.md:8: link "../etc/passwd": points outside the repository`,
		`README.md:9: link "docs/gone.md": no such file`,
		`docs/guide.md:9: link "../README.md#Front-Page": README.md has no heading with the anchor "Front-Page"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems found:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	write("rules.yml", `groups:
  - name: g
    rules:
      - alert: GoodAlert
        annotations: {runbook_url: `+runbookBase+`goodalert}
      - alert: WrongSection
        annotations: {runbook_url: `+runbookBase+`goodalert}
      - alert: MissingSection
        annotations: {runbook_url: `+runbookBase+`missingsection}
      - alert: Elsewhere
        annotations: {runbook_url: https://example.com/runbooks#elsewhere}
      - alert: NoURL
        annotations: {summary: x}
      - record: not_an_alert
        expr: vector(1)
`)
	write("docs/runbooks.md", "# Runbooks\n\n## GoodAlert\n\n## WrongSection\n\n## Elsewhere\n\n## NoURL\n")
	got, err := c.checkRunbookURLs("rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	want = []string{
		`rules.yml:7: alert WrongSection: runbook_url "` + runbookBase + `goodalert" should be "` + runbookBase + `wrongsection"`,
		`rules.yml:9: runbook_url "` + runbookBase + `missingsection": docs/runbooks.md has no heading with the anchor "missingsection"`,
		`rules.yml:11: alert Elsewhere: runbook_url "https://example.com/runbooks#elsewhere" should be "` + runbookBase + `elsewhere"`,
		`rules.yml:11: runbook_url "https://example.com/runbooks#elsewhere": not in this repository (want ` + repoBlobMain + `...)`,
		`rules.yml:12: alert NoURL has no runbook_url annotation`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("runbook problems found:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDocsHeadingAnchors(t *testing.T) {
	for heading, want := range map[string]string{
		"Register the Entra app":      "register-the-entra-app",
		"Back ends: the `api` option": "back-ends-the-api-option",
		"`/metrics`":                  "metrics",
		"Protect the exporter's endpoint: TLS and basic auth":   "protect-the-exporters-endpoint-tls-and-basic-auth",
		"Workload identity (no secret in the cluster)":          "workload-identity-no-secret-in-the-cluster",
		"DefenderAVSignaturesOutOfDate":                         "defenderavsignaturesoutofdate",
		"Quotas, and how the configuration check enforces them": "quotas-and-how-the-configuration-check-enforces-them",
		"A — B":                            "a--b",
		"[Unreleased]":                     "unreleased",
		"See [the guide](docs/guide.md)":   "see-the-guide",
		"**Bold** and _emphasis_":          "bold-and-emphasis",
		"defender_up and `defender_up`":    "defender_up-and-defender_up",
		"Scale¹ and 2 replicas":            "scale-and-2-replicas",
		"Überblick über die Konfiguration": "überblick-über-die-konfiguration",
	} {
		if got := headingAnchor(heading); got != want {
			t.Errorf("headingAnchor(%q) = %q, want %q", heading, got, want)
		}
	}
	// Repeated headings get -1, -2 as GitHub numbers them; fenced code is
	// not a heading; a setext heading is.
	src := "# A\n\n## A\n\n```\n# Not a heading\n```\n\nSetext\n------\n\n### A ###\n"
	got := sortedKeys(markdownAnchors(src))
	if want := []string{"a", "a-1", "a-2", "setext"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("anchors %v, want %v", got, want)
	}
}

// --- the checker

// docChecker resolves links against the files under root, caching the
// anchors of each Markdown file it reads.
type docChecker struct {
	root    string
	anchors map[string]map[string]bool // by slash path relative to root
}

func newDocChecker(root string) *docChecker {
	return &docChecker{root: root, anchors: map[string]map[string]bool{}}
}

// checkMarkdown returns one problem per relative link or anchor of file
// (slash path relative to root) that points nowhere.
func (c *docChecker) checkMarkdown(file string) ([]string, error) {
	src, err := os.ReadFile(filepath.Join(c.root, filepath.FromSlash(file)))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range markdownLinks(string(src)) {
		if msg := c.resolve(file, l.dest); msg != "" {
			out = append(out, fmt.Sprintf("%s:%d: link %q: %s", file, l.line, l.dest, msg))
		}
	}
	return out, nil
}

var schemeRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)

// resolve checks one link destination written in file; "" means it
// resolves. Links with a scheme (https:, mailto:) are not followed.
func (c *docChecker) resolve(file, dest string) string {
	if schemeRE.MatchString(dest) || strings.HasPrefix(dest, "//") {
		return ""
	}
	pathPart, anchor, _ := strings.Cut(dest, "#")
	p, err := url.PathUnescape(pathPart)
	if err != nil {
		return "malformed path: " + err.Error()
	}
	target := file
	if p != "" {
		if strings.HasPrefix(p, "/") {
			target = strings.TrimPrefix(p, "/") // GitHub: from the repository root
		} else {
			target = filepath.ToSlash(filepath.Join(filepath.Dir(filepath.FromSlash(file)), filepath.FromSlash(p)))
		}
		target = strings.TrimSuffix(filepath.ToSlash(filepath.Clean(target)), "/")
		if target == ".." || strings.HasPrefix(target, "../") {
			return "points outside the repository"
		}
		if _, err := os.Stat(filepath.Join(c.root, filepath.FromSlash(target))); err != nil {
			return "no such file"
		}
	}
	if anchor == "" {
		return ""
	}
	if !strings.HasSuffix(target, ".md") {
		return fmt.Sprintf("%s is not Markdown, so it has no heading anchors", target)
	}
	anchors, err := c.anchorsOf(target)
	if err != nil {
		return err.Error()
	}
	if !anchors[anchor] {
		return fmt.Sprintf("%s has no heading with the anchor %q", target, anchor)
	}
	return ""
}

func (c *docChecker) anchorsOf(file string) (map[string]bool, error) {
	if a, ok := c.anchors[file]; ok {
		return a, nil
	}
	src, err := os.ReadFile(filepath.Join(c.root, filepath.FromSlash(file)))
	if err != nil {
		return nil, err
	}
	a := markdownAnchors(string(src))
	c.anchors[file] = a
	return a, nil
}

// checkRunbookURLs checks a Prometheus rules file, a PrometheusRule or a
// promtool test file: every runbook_url must resolve in this repository,
// and every alerting rule must carry one that points at its own section
// of docs/runbooks.md.
func (c *docChecker) checkRunbookURLs(file string) ([]string, error) {
	src, err := os.ReadFile(filepath.Join(c.root, filepath.FromSlash(file)))
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var out []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			if alert := mapValue(n, "alert"); alert != nil {
				out = append(out, c.checkAlertRunbook(file, n, alert)...)
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Value == "runbook_url" && v.Kind == yaml.ScalarNode {
					if msg := c.resolveRunbookURL(v.Value); msg != "" {
						out = append(out, fmt.Sprintf("%s:%d: runbook_url %q: %s", file, v.Line, v.Value, msg))
					}
				}
			}
		}
		for _, ch := range n.Content {
			walk(ch)
		}
	}
	walk(&doc)
	sort.SliceStable(out, func(i, j int) bool { return lineOf(out[i]) < lineOf(out[j]) })
	return out, nil
}

// checkAlertRunbook checks that an alerting rule's runbook_url is its own
// section: runbookBase + the alert name in lower case.
func (c *docChecker) checkAlertRunbook(file string, rule, alert *yaml.Node) []string {
	want := runbookBase + strings.ToLower(alert.Value)
	got := mapValue(mapValue(rule, "annotations"), "runbook_url")
	switch {
	case got == nil:
		return []string{fmt.Sprintf("%s:%d: alert %s has no runbook_url annotation", file, alert.Line, alert.Value)}
	case got.Value != want:
		return []string{fmt.Sprintf("%s:%d: alert %s: runbook_url %q should be %q", file, got.Line, alert.Value, got.Value, want)}
	}
	return nil
}

func (c *docChecker) resolveRunbookURL(u string) string {
	rest, ok := strings.CutPrefix(u, repoBlobMain)
	if !ok {
		return fmt.Sprintf("not in this repository (want %s...)", repoBlobMain)
	}
	return c.resolve("", rest)
}

// lineOf reads the line number of a "file:line: ..." problem.
func lineOf(problem string) int {
	var n int
	if _, after, ok := strings.Cut(problem, ":"); ok {
		fmt.Sscanf(after, "%d", &n)
	}
	return n
}

// mapValue returns the value of key in a YAML mapping, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// alertNames lists the alerting rules of a rules file.
func alertNames(file string) (map[string]bool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var rf ruleFile
	if err := yaml.Unmarshal(data, &rf); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	names := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				names[r.Alert] = true
			}
		}
	}
	return names, nil
}

// --- Markdown, as far as links and headings go

type mdLink struct {
	line int
	dest string
}

type mdHeading struct {
	level int
	text  string
}

var (
	fenceRE     = regexp.MustCompile("^ {0,3}(```+|~~~+)")
	atxRE       = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	setextRE    = regexp.MustCompile(`^ {0,3}(=+|-+)[ \t]*$`)
	refDefRE    = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:[ \t]*(<[^>]*>|\S+)`)
	htmlTagRE   = regexp.MustCompile(`<[^>]+>`)
	inlineRefRE = regexp.MustCompile(`!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\([^)]*\)`)
)

// markdownLines yields the lines outside fenced code blocks, numbered from 1.
func markdownLines(src string, fn func(n int, line string, prevBlank bool, prev string)) {
	inFence, fence := false, ""
	prev, prevBlank := "", true
	for i, line := range strings.Split(src, "\n") {
		if m := fenceRE.FindStringSubmatch(line); m != nil {
			switch {
			case !inFence:
				inFence, fence = true, m[1]
			case strings.HasPrefix(m[1], fence[:1]) && len(m[1]) >= len(fence):
				inFence = false
			}
			prev, prevBlank = "", true
			continue
		}
		if inFence {
			continue
		}
		fn(i+1, line, prevBlank, prev)
		prev, prevBlank = line, strings.TrimSpace(line) == ""
	}
}

// markdownLinks finds inline links and images and reference definitions,
// outside code spans and fenced code.
func markdownLinks(src string) []mdLink {
	var out []mdLink
	markdownLines(src, func(n int, line string, _ bool, _ string) {
		// Blank code spans out, keeping the brackets of a link whose text
		// is code ([`/metrics`](...)).
		line = replaceCodeSpans(line, func(raw, _ string) string { return strings.Repeat("x", len(raw)) })
		if m := refDefRE.FindStringSubmatch(line); m != nil {
			out = append(out, mdLink{n, strings.Trim(m[1], "<>")})
			return
		}
		for i := 0; ; {
			j := strings.Index(line[i:], "](")
			if j < 0 {
				break
			}
			start := i + j + 2
			dest, end := linkDestination(line[start:])
			if dest != "" {
				out = append(out, mdLink{n, dest})
			}
			i = start + end
		}
	})
	return out
}

// linkDestination reads a link destination at the start of s (after the
// "("), with an optional title, and returns it and how much it read.
func linkDestination(s string) (string, int) {
	s2 := strings.TrimLeft(s, " \t")
	skipped := len(s) - len(s2)
	if strings.HasPrefix(s2, "<") {
		if k := strings.Index(s2, ">"); k > 0 {
			return s2[1:k], skipped + k + 1
		}
		return "", skipped
	}
	depth := 0
	for k, r := range s2 {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth == 0, r == ' ', r == '\t':
			return s2[:k], skipped + k
		case r == ')':
			depth--
		}
	}
	return s2, len(s)
}

// markdownHeadings returns the ATX and setext headings outside fenced
// code, with their text as written.
func markdownHeadings(src string) []mdHeading {
	var out []mdHeading
	markdownLines(src, func(_ int, line string, prevBlank bool, prev string) {
		if m := atxRE.FindStringSubmatch(line); m != nil {
			out = append(out, mdHeading{len(m[1]), strings.TrimSpace(m[2])})
			return
		}
		if m := setextRE.FindStringSubmatch(line); m != nil && !prevBlank && isParagraphLine(prev) {
			level := 2
			if m[1][0] == '=' {
				level = 1
			}
			out = append(out, mdHeading{level, strings.TrimSpace(prev)})
		}
	})
	return out
}

// isParagraphLine: a line a setext underline turns into a heading (not a
// heading, list item, table row or quote of its own).
func isParagraphLine(s string) bool {
	t := strings.TrimSpace(s)
	return t != "" && !atxRE.MatchString(s) && !strings.HasPrefix(t, "|") && !strings.HasPrefix(t, ">") &&
		!strings.HasPrefix(t, "- ") && !strings.HasPrefix(t, "* ") && !strings.HasPrefix(t, "+ ")
}

// markdownAnchors returns the anchors GitHub gives a document's headings,
// numbering repeats (x, x-1, x-2).
func markdownAnchors(src string) map[string]bool {
	seen := map[string]int{}
	out := map[string]bool{}
	for _, h := range markdownHeadings(src) {
		a := headingAnchor(h.text)
		if n := seen[a]; n > 0 {
			out[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

// headingAnchor is GitHub's anchor for a heading: the rendered text in
// lower case, without anything but letters, marks, decimal digits,
// connector punctuation (_), hyphens and spaces, and with each space
// turned into a hyphen.
func headingAnchor(heading string) string {
	text := renderedText(heading)
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-', unicode.IsLetter(r), unicode.Is(unicode.Mn, r), unicode.Is(unicode.Mc, r), unicode.Is(unicode.Me, r),
			unicode.Is(unicode.Nd, r), unicode.Is(unicode.Pc, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// renderedText is a heading's text as GitHub shows it: code spans keep
// their content, links their text, and emphasis markers go.
func renderedText(s string) string {
	var codes []string
	s = replaceCodeSpans(s, func(_, content string) string {
		codes = append(codes, strings.TrimSpace(content))
		return fmt.Sprintf("\x00%d\x00", len(codes)-1)
	})
	s = inlineRefRE.ReplaceAllString(s, "$1")
	s = htmlTagRE.ReplaceAllString(s, "")
	s = strings.NewReplacer("*", "", "~", "", "[", "", "]", "").Replace(s)
	s = dropEmphasisUnderscores(s)
	for i, code := range codes {
		s = strings.Replace(s, fmt.Sprintf("\x00%d\x00", i), code, 1)
	}
	return strings.TrimSpace(s)
}

// dropEmphasisUnderscores removes runs of _ that open or close emphasis
// (a word on one side only); snake_case keeps its underscores.
func dropEmphasisUnderscores(s string) string {
	isWord := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	rs := []rune(s)
	var b strings.Builder
	for i := 0; i < len(rs); {
		if rs[i] != '_' {
			b.WriteRune(rs[i])
			i++
			continue
		}
		j := i
		for j < len(rs) && rs[j] == '_' {
			j++
		}
		before := i > 0 && isWord(rs[i-1])
		after := j < len(rs) && isWord(rs[j])
		if before == after { // inside a word, or alone between spaces
			b.WriteString(string(rs[i:j]))
		}
		i = j
	}
	return b.String()
}

// replaceCodeSpans replaces each code span of a line (a run of backticks up
// to the next run of the same length) by fn(raw span, its content).
// Unmatched backticks are literal, as in Markdown.
func replaceCodeSpans(s string, fn func(raw, content string) string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '`' {
			b.WriteByte(s[i])
			i++
			continue
		}
		n := i
		for n < len(s) && s[n] == '`' {
			n++
		}
		ticks := n - i
		end := -1
		for k := n; k < len(s); {
			if s[k] != '`' {
				k++
				continue
			}
			m := k
			for m < len(s) && s[m] == '`' {
				m++
			}
			if m-k == ticks {
				end = k
				break
			}
			k = m
		}
		if end < 0 {
			b.WriteString(s[i:n])
			i = n
			continue
		}
		b.WriteString(fn(s[i:end+ticks], s[n:end]))
		i = end + ticks
	}
	return b.String()
}
