package defendertest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// A small KQL: enough of Kusto to run the queries security teams turn into
// metrics, over tables built from the fake's dataset (hunting_tables.go).
//
//	Table [| operator]...
//
// Operators: where <predicate>; summarize [Name =] agg(...), ... [by Col, ...]
// with count(), countif(pred), dcount(Col), sum/min/max/avg(Col) and
// arg_max/arg_min(Col, * | Col, ...); project Col | Name = Col, ...;
// project-rename New = Old, ...; project-away Col, ...; extend Name = expr,
// ...; join kind=inner|leftouter (subquery) on Col, ...; distinct Col, ...;
// count; take/limit N; order/sort by Col [asc|desc], ...; top N by Col
// [asc|desc].
// Predicates: and, or, not(...), parentheses; == != =~ !~ < <= > >= against
// literals or columns; in, !in, in~ (...); contains, !contains, has, !has,
// startswith, !startswith, endswith, !endswith (case-insensitive, as in
// Kusto); isempty/isnotempty/isnull/isnotnull(Col), tostring(x), and
// member access into dynamic columns (AdditionalFields.AvMode); bool
// columns compare with 1 and 0 as Kusto allows. Literals: "strings",
// 'strings', @"verbatim", numbers, true/false, timespans (7d, 12h, 30m, 10s,
// 100ms), ago(timespan), now(), datetime(2025-06-01T10:00:00Z).
//
// Anything else is a 400 with a Kusto-like message, so an unsupported query
// fails loudly instead of giving a wrong answer.

// kqlError is a query the fake rejects; the message reads like Kusto's.
type kqlError struct{ msg string }

func (e *kqlError) Error() string { return e.msg }

func kqlErrorf(format string, args ...any) error {
	return &kqlError{msg: fmt.Sprintf(format, args...)}
}

// --- kqlLexer ---

type kqlTokKind int

const (
	kqlEOF kqlTokKind = iota
	kqlIdent
	kqlString
	kqlNumber
	kqlTimespan
	kqlDatetime
	kqlOpTok
)

type kqlToken struct {
	kind      kqlTokKind
	text      string // source text; the operator for kqlOpTok
	str       string // unescaped value of a string literal
	isInt     bool
	i         int64
	f         float64
	dur       time.Duration
	t         time.Time
	line, col int
}

func (t kqlToken) is(kind kqlTokKind, text string) bool {
	return t.kind == kind && t.text == text
}

func (t kqlToken) where() string { return fmt.Sprintf("[%d,%d]", t.line, t.col) }

type kqlLexer struct {
	src       []rune
	pos       int
	line, col int
}

func lexKQL(src string) ([]kqlToken, error) {
	lx := &kqlLexer{src: []rune(src), line: 1, col: 1}
	var out []kqlToken
	for {
		t, err := lx.next()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		if t.kind == kqlEOF {
			return out, nil
		}
	}
}

func (lx *kqlLexer) peek(off int) rune {
	if lx.pos+off < len(lx.src) {
		return lx.src[lx.pos+off]
	}
	return 0
}

func (lx *kqlLexer) advance() rune {
	r := lx.src[lx.pos]
	lx.pos++
	if r == '\n' {
		lx.line, lx.col = lx.line+1, 1
	} else {
		lx.col++
	}
	return r
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }
func isIdentPart(r rune) bool  { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func (lx *kqlLexer) next() (kqlToken, error) {
	// Skip blanks and // comments.
	for lx.pos < len(lx.src) {
		r := lx.peek(0)
		if unicode.IsSpace(r) {
			lx.advance()
			continue
		}
		if r == '/' && lx.peek(1) == '/' {
			for lx.pos < len(lx.src) && lx.peek(0) != '\n' {
				lx.advance()
			}
			continue
		}
		break
	}
	t := kqlToken{line: lx.line, col: lx.col}
	if lx.pos >= len(lx.src) {
		t.kind = kqlEOF
		return t, nil
	}
	start := lx.pos
	r := lx.peek(0)
	switch {
	case r == '@' && (lx.peek(1) == '"' || lx.peek(1) == '\''):
		lx.advance()
		return lx.verbatim(t)
	case r == '"' || r == '\'':
		return lx.quoted(t)
	case unicode.IsDigit(r):
		return lx.number(t)
	case isIdentStart(r):
		for lx.pos < len(lx.src) && (isIdentPart(lx.peek(0)) || (lx.peek(0) == '-' && isIdentStart(lx.peek(1)))) {
			lx.advance()
		}
		t.kind, t.text = kqlIdent, string(lx.src[start:lx.pos])
		if t.text == "in" && lx.peek(0) == '~' {
			lx.advance()
			t.text = "in~"
		}
		if t.text == "datetime" && lx.peek(0) == '(' {
			return lx.datetime(t)
		}
		return t, nil
	case r == '!' && isIdentStart(lx.peek(1)):
		lx.advance()
		for lx.pos < len(lx.src) && isIdentPart(lx.peek(0)) {
			lx.advance()
		}
		t.kind, t.text = kqlIdent, string(lx.src[start:lx.pos])
		return t, nil
	}
	for _, op := range []string{"==", "!=", "=~", "!~", "<=", ">=", "<>"} {
		if string(lx.src[lx.pos:min(lx.pos+2, len(lx.src))]) == op {
			lx.advance()
			lx.advance()
			t.kind, t.text = kqlOpTok, op
			return t, nil
		}
	}
	if strings.ContainsRune("|,()=<>*;.", r) {
		lx.advance()
		t.kind, t.text = kqlOpTok, string(r)
		return t, nil
	}
	return t, kqlErrorf("Query could not be parsed at '%c' on line %s", r, t.where())
}

func (lx *kqlLexer) quoted(t kqlToken) (kqlToken, error) {
	q := lx.advance()
	var b strings.Builder
	for {
		if lx.pos >= len(lx.src) || lx.peek(0) == '\n' {
			return t, kqlErrorf("Query could not be parsed at '%c' on line %s: unterminated string literal", q, t.where())
		}
		r := lx.advance()
		if r == q {
			break
		}
		if r == '\\' && lx.pos < len(lx.src) {
			switch e := lx.advance(); e {
			case 'n':
				b.WriteRune('\n')
			case 't':
				b.WriteRune('\t')
			case 'r':
				b.WriteRune('\r')
			default:
				b.WriteRune(e)
			}
			continue
		}
		b.WriteRune(r)
	}
	t.kind, t.str, t.text = kqlString, b.String(), "string"
	return t, nil
}

// verbatim reads @"..." where "" stands for one quote.
func (lx *kqlLexer) verbatim(t kqlToken) (kqlToken, error) {
	q := lx.advance()
	var b strings.Builder
	for {
		if lx.pos >= len(lx.src) {
			return t, kqlErrorf("Query could not be parsed at '@' on line %s: unterminated string literal", t.where())
		}
		r := lx.advance()
		if r == q {
			if lx.peek(0) == q {
				lx.advance()
				b.WriteRune(q)
				continue
			}
			break
		}
		b.WriteRune(r)
	}
	t.kind, t.str, t.text = kqlString, b.String(), "string"
	return t, nil
}

var timespanUnits = []struct {
	suffix string
	d      time.Duration
}{
	{"ms", time.Millisecond}, {"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second},
}

func (lx *kqlLexer) number(t kqlToken) (kqlToken, error) {
	start := lx.pos
	isFloat := false
	for lx.pos < len(lx.src) && (unicode.IsDigit(lx.peek(0)) || (lx.peek(0) == '.' && unicode.IsDigit(lx.peek(1)) && !isFloat)) {
		if lx.peek(0) == '.' {
			isFloat = true
		}
		lx.advance()
	}
	num := string(lx.src[start:lx.pos])
	// A unit right after the digits makes a timespan: 7d, 12h, 100ms.
	unitStart := lx.pos
	for lx.pos < len(lx.src) && unicode.IsLetter(lx.peek(0)) {
		lx.advance()
	}
	unit := string(lx.src[unitStart:lx.pos])
	t.text = num + unit
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return t, kqlErrorf("Query could not be parsed at '%s' on line %s", t.text, t.where())
	}
	if unit != "" {
		for _, u := range timespanUnits {
			if unit == u.suffix {
				t.kind, t.dur = kqlTimespan, time.Duration(f*float64(u.d))
				return t, nil
			}
		}
		return t, kqlErrorf("Query could not be parsed at '%s' on line %s", t.text, t.where())
	}
	t.kind, t.f = kqlNumber, f
	if !isFloat {
		if i, err := strconv.ParseInt(num, 10, 64); err == nil {
			t.isInt, t.i = true, i
		}
	}
	return t, nil
}

// datetime reads datetime(...) whole: its argument is not a string literal.
func (lx *kqlLexer) datetime(t kqlToken) (kqlToken, error) {
	lx.advance() // (
	start := lx.pos
	for lx.pos < len(lx.src) && lx.peek(0) != ')' {
		lx.advance()
	}
	if lx.pos >= len(lx.src) {
		return t, kqlErrorf("Query could not be parsed at 'datetime' on line %s: missing ')'", t.where())
	}
	raw := strings.TrimSpace(string(lx.src[start:lx.pos]))
	lx.advance() // )
	raw = strings.Trim(raw, `"'`)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if v, err := time.Parse(layout, raw); err == nil {
			t.kind, t.t, t.text = kqlDatetime, v.UTC(), "datetime("+raw+")"
			return t, nil
		}
	}
	return t, kqlErrorf("Query could not be parsed at 'datetime(%s)' on line %s: invalid datetime literal", raw, t.where())
}

// --- kqlParser ---

// kqlQuery is a parsed query: a table and its pipeline.
type kqlQuery struct {
	table kqlToken
	ops   []kqlOp
}

// kqlOp is one pipeline operator; apply runs it on a table.
type kqlOp interface {
	apply(env *kqlEnv, in *kTable) (*kTable, error)
}

type kqlParser struct {
	toks []kqlToken
	pos  int
}

func parseKQL(src string) (*kqlQuery, error) {
	toks, err := lexKQL(src)
	if err != nil {
		return nil, err
	}
	p := &kqlParser{toks: toks}
	return p.pipeline(false)
}

// pipeline reads "Table | operator | ...": the whole query, or (sub) the
// parenthesised right side of a join, which ends at its ')'.
func (p *kqlParser) pipeline(sub bool) (*kqlQuery, error) {
	first := p.next()
	switch {
	case first.kind == kqlEOF:
		return nil, kqlErrorf("Query could not be parsed: the query is empty")
	case first.is(kqlIdent, "let"):
		return nil, kqlErrorf("Query could not be parsed at 'let' on line %s: let statements are not supported by the fake tenant", first.where())
	case first.kind != kqlIdent:
		return nil, p.unexpected(first)
	}
	q := &kqlQuery{table: first}
	for {
		if sub && p.peek().is(kqlOpTok, ")") {
			return q, nil
		}
		t := p.next()
		switch {
		case !sub && (t.kind == kqlEOF || t.is(kqlOpTok, ";") && p.peek().kind == kqlEOF):
			return q, nil
		case !t.is(kqlOpTok, "|"):
			return nil, p.unexpected(t)
		}
		op, err := p.operator()
		if err != nil {
			return nil, err
		}
		q.ops = append(q.ops, op)
	}
}

func (p *kqlParser) peek() kqlToken { return p.toks[p.pos] }

func (p *kqlParser) next() kqlToken {
	t := p.toks[p.pos]
	if t.kind != kqlEOF {
		p.pos++
	}
	return t
}

func (p *kqlParser) unexpected(t kqlToken) error {
	if t.kind == kqlEOF {
		return kqlErrorf("Query could not be parsed at end of query: the query is incomplete")
	}
	return kqlErrorf("Query could not be parsed at '%s' on line %s", t.text, t.where())
}

func (p *kqlParser) expectOp(op string) error {
	if t := p.next(); !t.is(kqlOpTok, op) {
		return p.unexpected(t)
	}
	return nil
}

func (p *kqlParser) ident() (kqlToken, error) {
	t := p.next()
	if t.kind != kqlIdent {
		return t, p.unexpected(t)
	}
	return t, nil
}

// atOperatorEnd reports whether the operator's arguments are done.
func (p *kqlParser) atOperatorEnd() bool {
	t := p.peek()
	return t.kind == kqlEOF || t.is(kqlOpTok, "|") || t.is(kqlOpTok, ";") || t.is(kqlOpTok, ")")
}

func (p *kqlParser) operator() (kqlOp, error) {
	t, err := p.ident()
	if err != nil {
		return nil, err
	}
	switch t.text {
	case "where", "filter":
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &whereOp{pred: e}, p.endOf(t)
	case "summarize":
		return p.summarize(t)
	case "project":
		items, err := p.namedColumns(true)
		if err != nil {
			return nil, err
		}
		return &projectOp{items: items}, p.endOf(t)
	case "project-rename":
		items, err := p.namedColumns(false)
		if err != nil {
			return nil, err
		}
		return &renameOp{items: items}, p.endOf(t)
	case "project-away":
		cols, err := p.columnList()
		if err != nil {
			return nil, err
		}
		return &awayOp{cols: cols}, p.endOf(t)
	case "distinct":
		cols, err := p.columnList()
		if err != nil {
			return nil, err
		}
		return &distinctOp{cols: cols}, p.endOf(t)
	case "extend":
		items, err := p.assignments()
		if err != nil {
			return nil, err
		}
		return &extendOp{items: items}, p.endOf(t)
	case "join":
		return p.join(t)
	case "count":
		return countOp{}, p.endOf(t)
	case "take", "limit":
		n, err := p.count(t)
		if err != nil {
			return nil, err
		}
		return &takeOp{n: n}, p.endOf(t)
	case "order", "sort":
		if by := p.next(); !by.is(kqlIdent, "by") {
			return nil, p.unexpected(by)
		}
		keys, err := p.sortKeys()
		if err != nil {
			return nil, err
		}
		return &sortOp{keys: keys}, p.endOf(t)
	case "top":
		n, err := p.count(t)
		if err != nil {
			return nil, err
		}
		if by := p.next(); !by.is(kqlIdent, "by") {
			return nil, p.unexpected(by)
		}
		keys, err := p.sortKeys()
		if err != nil {
			return nil, err
		}
		return &topOp{n: n, keys: keys}, p.endOf(t)
	}
	return nil, kqlErrorf("Query could not be parsed at '%s' on line %s: the fake tenant's KQL has no '%s' operator", t.text, t.where(), t.text)
}

// endOf checks that nothing is left of operator t's arguments.
func (p *kqlParser) endOf(t kqlToken) error {
	if !p.atOperatorEnd() {
		return p.unexpected(p.peek())
	}
	return nil
}

func (p *kqlParser) count(op kqlToken) (int, error) {
	t := p.next()
	if t.kind != kqlNumber || !t.isInt || t.i < 0 {
		return 0, kqlErrorf("'%s' operator: expected a non-negative integer, got '%s' on line %s", op.text, t.text, t.where())
	}
	return int(t.i), nil
}

// namedItem is "Col" or "Name = Col".
type namedItem struct {
	name kqlToken // output name
	col  kqlToken // source column
}

func (p *kqlParser) namedColumns(allowBare bool) ([]namedItem, error) {
	var out []namedItem
	for {
		first, err := p.ident()
		if err != nil {
			return nil, err
		}
		it := namedItem{name: first, col: first}
		if p.peek().is(kqlOpTok, "=") {
			p.next()
			if it.col, err = p.ident(); err != nil {
				return nil, err
			}
		} else if !allowBare {
			return nil, p.unexpected(p.peek())
		}
		out = append(out, it)
		if !p.peek().is(kqlOpTok, ",") {
			return out, nil
		}
		p.next()
	}
}

// assignment is "Name = expr" of extend.
type assignment struct {
	name kqlToken
	expr kqlNode
}

func (p *kqlParser) assignments() ([]assignment, error) {
	var out []assignment
	for {
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp("="); err != nil {
			return nil, err
		}
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		out = append(out, assignment{name: name, expr: e})
		if !p.peek().is(kqlOpTok, ",") {
			return out, nil
		}
		p.next()
	}
}

// join reads "join kind=inner|leftouter (subquery) on Col, ...". Kusto's
// default kind (innerunique) deduplicates the left side, which the fake
// does not model, so the kind must be written.
func (p *kqlParser) join(op kqlToken) (kqlOp, error) {
	j := &joinOp{at: op}
	if t := p.peek(); !t.is(kqlIdent, "kind") {
		return nil, kqlErrorf("'join' operator on line %s: the fake tenant needs kind=inner or kind=leftouter", op.where())
	}
	p.next()
	if err := p.expectOp("="); err != nil {
		return nil, err
	}
	kind, err := p.ident()
	if err != nil {
		return nil, err
	}
	if kind.text != "inner" && kind.text != "leftouter" {
		return nil, kqlErrorf("'join' operator: kind '%s' on line %s is not supported by the fake tenant (use inner or leftouter)", kind.text, kind.where())
	}
	j.kind = kind.text
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	if j.right, err = p.pipeline(true); err != nil {
		return nil, err
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	if on := p.next(); !on.is(kqlIdent, "on") {
		return nil, p.unexpected(on)
	}
	if j.on, err = p.columnList(); err != nil {
		return nil, err
	}
	return j, p.endOf(op)
}

func (p *kqlParser) columnList() ([]kqlToken, error) {
	var out []kqlToken
	for {
		t, err := p.ident()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		if !p.peek().is(kqlOpTok, ",") {
			return out, nil
		}
		p.next()
	}
}

type sortKey struct {
	col  kqlToken
	desc bool
}

// sortKeys reads "Col [asc|desc], ..."; Kusto sorts descending by default.
func (p *kqlParser) sortKeys() ([]sortKey, error) {
	var out []sortKey
	for {
		t, err := p.ident()
		if err != nil {
			return nil, err
		}
		k := sortKey{col: t, desc: true}
		switch {
		case p.peek().is(kqlIdent, "asc"):
			p.next()
			k.desc = false
		case p.peek().is(kqlIdent, "desc"):
			p.next()
		}
		out = append(out, k)
		if !p.peek().is(kqlOpTok, ",") {
			return out, nil
		}
		p.next()
	}
}

// aggItem is one aggregate of summarize: [Name =] fn(args).
type aggItem struct {
	name kqlToken // zero when unnamed
	fn   kqlToken
	args []kqlNode
	star bool // arg_max(Col, *)
}

func (p *kqlParser) summarize(op kqlToken) (kqlOp, error) {
	s := &summarizeOp{at: op}
	if !p.peek().is(kqlIdent, "by") {
		for {
			it, err := p.aggregate()
			if err != nil {
				return nil, err
			}
			s.aggs = append(s.aggs, it)
			if !p.peek().is(kqlOpTok, ",") {
				break
			}
			p.next()
		}
	}
	if p.peek().is(kqlIdent, "by") {
		p.next()
		items, err := p.namedColumns(true)
		if err != nil {
			return nil, err
		}
		s.by = items
	}
	if len(s.aggs) == 0 && len(s.by) == 0 {
		return nil, kqlErrorf("'summarize' operator: expected at least one aggregate or 'by' column on line %s", op.where())
	}
	return s, p.endOf(op)
}

func (p *kqlParser) aggregate() (aggItem, error) {
	var it aggItem
	first, err := p.ident()
	if err != nil {
		return it, err
	}
	if p.peek().is(kqlOpTok, "=") {
		p.next()
		it.name = first
		if first, err = p.ident(); err != nil {
			return it, err
		}
	}
	it.fn = first
	if err := p.expectOp("("); err != nil {
		return it, err
	}
	for !p.peek().is(kqlOpTok, ")") {
		if p.peek().is(kqlOpTok, "*") {
			p.next()
			it.star = true
		} else {
			e, err := p.expr()
			if err != nil {
				return it, err
			}
			it.args = append(it.args, e)
		}
		if !p.peek().is(kqlOpTok, ",") {
			break
		}
		p.next()
	}
	return it, p.expectOp(")")
}

// --- expressions ---

// kqlNode is an expression tree; kql_eval.go compiles it against a table.
type kqlNode interface{ pos() kqlToken }

type (
	colNode  struct{ t kqlToken }
	litNode  struct{ t kqlToken } // string, number, timespan, datetime, true/false
	callNode struct {
		t    kqlToken // function name
		args []kqlNode
	}
	binNode struct {
		t    kqlToken // operator
		l, r kqlNode
	}
	inNode struct {
		t    kqlToken // in, !in, in~
		x    kqlNode
		list []kqlNode
	}
	memberNode struct {
		t kqlToken // the member's name
		x kqlNode  // a dynamic value
	}
)

func (n *colNode) pos() kqlToken    { return n.t }
func (n *litNode) pos() kqlToken    { return n.t }
func (n *callNode) pos() kqlToken   { return n.t }
func (n *binNode) pos() kqlToken    { return n.t }
func (n *inNode) pos() kqlToken     { return n.t }
func (n *memberNode) pos() kqlToken { return n.t }

func (p *kqlParser) expr() (kqlNode, error) { return p.orExpr() }

func (p *kqlParser) orExpr() (kqlNode, error) {
	l, err := p.andExpr()
	if err != nil {
		return nil, err
	}
	for p.peek().is(kqlIdent, "or") {
		op := p.next()
		r, err := p.andExpr()
		if err != nil {
			return nil, err
		}
		l = &binNode{t: op, l: l, r: r}
	}
	return l, nil
}

func (p *kqlParser) andExpr() (kqlNode, error) {
	l, err := p.cmpExpr()
	if err != nil {
		return nil, err
	}
	for p.peek().is(kqlIdent, "and") {
		op := p.next()
		r, err := p.cmpExpr()
		if err != nil {
			return nil, err
		}
		l = &binNode{t: op, l: l, r: r}
	}
	return l, nil
}

var cmpOps = map[string]bool{"==": true, "!=": true, "<>": true, "=~": true, "!~": true, "<": true, "<=": true, ">": true, ">=": true}

// stringOps are Kusto's string operators spelled as words.
var stringOps = map[string]bool{
	"contains": true, "!contains": true, "has": true, "!has": true,
	"startswith": true, "!startswith": true, "endswith": true, "!endswith": true,
	"contains_cs": true, "startswith_cs": true, "endswith_cs": true,
}

func (p *kqlParser) cmpExpr() (kqlNode, error) {
	l, err := p.primary()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	switch {
	case t.kind == kqlOpTok && cmpOps[t.text]:
		p.next()
		r, err := p.primary()
		if err != nil {
			return nil, err
		}
		return &binNode{t: t, l: l, r: r}, nil
	case t.kind == kqlIdent && stringOps[t.text]:
		p.next()
		r, err := p.primary()
		if err != nil {
			return nil, err
		}
		return &binNode{t: t, l: l, r: r}, nil
	case t.kind == kqlIdent && (t.text == "in" || t.text == "!in" || t.text == "in~"):
		p.next()
		if err := p.expectOp("("); err != nil {
			return nil, err
		}
		n := &inNode{t: t, x: l}
		for {
			e, err := p.primary()
			if err != nil {
				return nil, err
			}
			n.list = append(n.list, e)
			if !p.peek().is(kqlOpTok, ",") {
				break
			}
			p.next()
		}
		return n, p.expectOp(")")
	}
	return l, nil
}

func (p *kqlParser) primary() (kqlNode, error) {
	t := p.next()
	switch t.kind {
	case kqlString, kqlNumber, kqlTimespan, kqlDatetime:
		return &litNode{t: t}, nil
	case kqlIdent:
		if t.text == "true" || t.text == "false" {
			return &litNode{t: t}, nil
		}
		if p.peek().is(kqlOpTok, "(") {
			p.next()
			c := &callNode{t: t}
			for !p.peek().is(kqlOpTok, ")") {
				e, err := p.expr()
				if err != nil {
					return nil, err
				}
				c.args = append(c.args, e)
				if !p.peek().is(kqlOpTok, ",") {
					break
				}
				p.next()
			}
			return c, p.expectOp(")")
		}
		var n kqlNode = &colNode{t: t}
		for p.peek().is(kqlOpTok, ".") {
			p.next()
			member, err := p.ident()
			if err != nil {
				return nil, err
			}
			n = &memberNode{t: member, x: n}
		}
		return n, nil
	case kqlOpTok:
		if t.text == "(" {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			return e, p.expectOp(")")
		}
	}
	return nil, p.unexpected(t)
}
