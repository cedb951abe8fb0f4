package defendertest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// An OData $filter subset: comparisons (eq ne gt ge lt le) between a property
// and a literal, and / or / not, parentheses, and the startswith, endswith and
// contains functions. Literals: 'strings' ('' escapes a quote), unquoted
// datetimes (2024-01-02T03:04:05Z, 2018-08-01Z), numbers, null, true, false.
// Property names, operators and function names match case-insensitively, and
// string comparisons ignore case, as Defender's do. Every error is a
// filterError that names what is wrong; nothing here may panic on input.

type filterError struct{ msg string }

func (e *filterError) Error() string { return e.msg }

func filterErrorf(format string, args ...any) error {
	return &filterError{msg: fmt.Sprintf(format, args...)}
}

const (
	maxFilterLen   = 8 << 10
	maxFilterDepth = 64
)

type tokKind int

const (
	tokEOF tokKind = iota
	tokLParen
	tokRParen
	tokComma
	tokIdent
	tokString
	tokNumber
	tokDateTime
)

type token struct {
	kind tokKind
	text string // identifier or raw literal text
	str  string // decoded string literal
	num  float64
	tm   time.Time
	pos  int
}

func lexFilter(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '(':
			toks = append(toks, token{kind: tokLParen, text: "(", pos: i})
			i++
		case c == ')':
			toks = append(toks, token{kind: tokRParen, text: ")", pos: i})
			i++
		case c == ',':
			toks = append(toks, token{kind: tokComma, text: ",", pos: i})
			i++
		case c == '\'':
			start := i
			var sb strings.Builder
			i++
			closed := false
			for i < len(src) {
				if src[i] == '\'' {
					if i+1 < len(src) && src[i+1] == '\'' {
						sb.WriteByte('\'')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				sb.WriteByte(src[i])
				i++
			}
			if !closed {
				return nil, filterErrorf("unterminated string literal at position %d", start)
			}
			toks = append(toks, token{kind: tokString, text: src[start:i], str: sb.String(), pos: start})
		case isLetter(c) || c == '_':
			start := i
			for i < len(src) && (isLetter(src[i]) || isDigit(src[i]) || src[i] == '_') {
				i++
			}
			toks = append(toks, token{kind: tokIdent, text: src[start:i], pos: start})
		case isDigit(c) || c == '-' || c == '.':
			start := i
			i++
			for i < len(src) && (isDigit(src[i]) || isLetter(src[i]) || strings.IndexByte(":.+-", src[i]) >= 0) {
				i++
			}
			tok, err := numberOrDateTime(src[start:i], start)
			if err != nil {
				return nil, err
			}
			toks = append(toks, tok)
		default:
			return nil, filterErrorf("syntax error: unexpected character %q at position %d", c, i)
		}
	}
	return append(toks, token{kind: tokEOF, pos: len(src)}), nil
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

var dateTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02Z07:00",
	"2006-01-02",
}

func numberOrDateTime(text string, pos int) (token, error) {
	if strings.ContainsAny(text[1:], "-:TZtz") {
		for _, layout := range dateTimeLayouts {
			if tm, err := time.Parse(layout, text); err == nil {
				return token{kind: tokDateTime, text: text, tm: tm, pos: pos}, nil
			}
		}
		return token{}, filterErrorf("invalid datetime literal '%s' at position %d", text, pos)
	}
	n, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return token{}, filterErrorf("invalid number literal '%s' at position %d", text, pos)
	}
	return token{kind: tokNumber, text: text, num: n, pos: pos}, nil
}

// The parse tree.
type (
	filterNode interface{ isFilterNode() }
	boolNode   struct {
		and         bool // else or
		left, right filterNode
	}
	notNode     struct{ x filterNode }
	compareNode struct {
		field string
		op    string // eq ne gt ge lt le, with the property on the left
		lit   token  // tokString, tokNumber, tokDateTime, or tokIdent null/true/false
	}
	funcNode struct {
		fn    string // startswith endswith contains
		field string
		arg   string
	}
)

func (boolNode) isFilterNode()    {}
func (notNode) isFilterNode()     {}
func (compareNode) isFilterNode() {}
func (funcNode) isFilterNode()    {}

type filterParser struct {
	toks  []token
	i     int
	depth int
}

func parseFilter(src string) (filterNode, error) {
	if len(src) > maxFilterLen {
		return nil, filterErrorf("the $filter expression is longer than %d characters", maxFilterLen)
	}
	toks, err := lexFilter(src)
	if err != nil {
		return nil, err
	}
	p := &filterParser{toks: toks}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, filterErrorf("syntax error at position %d: unexpected '%s'", t.pos, t.text)
	}
	return n, nil
}

func (p *filterParser) peek() token { return p.toks[p.i] }

func (p *filterParser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *filterParser) keyword(word string) bool {
	t := p.peek()
	return t.kind == tokIdent && strings.EqualFold(t.text, word)
}

func (p *filterParser) parseOr() (filterNode, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		p.next()
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = boolNode{and: false, left: left, right: right}
	}
	return left, nil
}

func (p *filterParser) parseAnd() (filterNode, error) {
	left, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		p.next()
		right, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		left = boolNode{and: true, left: left, right: right}
	}
	return left, nil
}

func (p *filterParser) parseUnary() (filterNode, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxFilterDepth {
		return nil, filterErrorf("the $filter expression is nested deeper than %d levels", maxFilterDepth)
	}
	if p.keyword("not") {
		p.next()
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	}
	return p.parsePrimary()
}

var filterFuncs = map[string]bool{"startswith": true, "endswith": true, "contains": true}

var flippedOp = map[string]string{"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}

func (p *filterParser) parsePrimary() (filterNode, error) {
	t := p.peek()
	if t.kind == tokLParen {
		p.next()
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, filterErrorf("syntax error at position %d: expected ')'", c.pos)
		}
		return x, nil
	}
	if t.kind == tokIdent && filterFuncs[strings.ToLower(t.text)] && p.toks[p.i+1].kind == tokLParen {
		return p.parseFunc()
	}
	left, err := p.operand()
	if err != nil {
		return nil, err
	}
	opTok := p.next()
	op := strings.ToLower(opTok.text)
	if _, ok := flippedOp[op]; opTok.kind != tokIdent || !ok {
		if opTok.kind == tokEOF {
			return nil, filterErrorf("syntax error: expected a comparison operator after '%s' at the end of the expression", left.text)
		}
		return nil, filterErrorf("syntax error at position %d: expected a comparison operator (eq, ne, gt, ge, lt, le), got '%s'", opTok.pos, opTok.text)
	}
	right, err := p.operand()
	if err != nil {
		return nil, err
	}
	lf, rf := isProperty(left), isProperty(right)
	switch {
	case lf && !rf:
		return compareNode{field: left.text, op: op, lit: right}, nil
	case rf && !lf:
		return compareNode{field: right.text, op: flippedOp[op], lit: left}, nil
	case lf && rf:
		// Compile decides: either a second property (unsupported) or an
		// unquoted string the client meant as a literal.
		return compareNode{field: left.text, op: op, lit: right}, nil
	}
	return nil, filterErrorf("a comparison needs a property: '%s' %s '%s' compares two literals", left.text, op, right.text)
}

// isProperty tells a property name from the keyword literals.
func isProperty(t token) bool {
	if t.kind != tokIdent {
		return false
	}
	switch strings.ToLower(t.text) {
	case "null", "true", "false":
		return false
	}
	return true
}

func (p *filterParser) operand() (token, error) {
	t := p.next()
	switch t.kind {
	case tokIdent, tokString, tokNumber, tokDateTime:
		if t.kind == tokIdent && isOperatorWord(t.text) {
			return token{}, filterErrorf("syntax error at position %d: unexpected '%s'", t.pos, t.text)
		}
		return t, nil
	case tokEOF:
		return token{}, filterErrorf("syntax error: the expression ends where a property or value was expected")
	}
	return token{}, filterErrorf("syntax error at position %d: unexpected '%s'", t.pos, t.text)
}

func isOperatorWord(s string) bool {
	switch strings.ToLower(s) {
	case "and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le":
		return true
	}
	return false
}

func (p *filterParser) parseFunc() (filterNode, error) {
	fn := strings.ToLower(p.next().text)
	p.next() // (
	f := p.next()
	if f.kind != tokIdent || !isProperty(f) {
		return nil, filterErrorf("syntax error at position %d: %s() needs a property as its first argument", f.pos, fn)
	}
	if c := p.next(); c.kind != tokComma {
		return nil, filterErrorf("syntax error at position %d: expected ',' in %s()", c.pos, fn)
	}
	arg := p.next()
	if arg.kind != tokString {
		return nil, filterErrorf("syntax error at position %d: %s() needs a string literal as its second argument", arg.pos, fn)
	}
	if c := p.next(); c.kind != tokRParen {
		return nil, filterErrorf("syntax error at position %d: expected ')' to close %s()", c.pos, fn)
	}
	return funcNode{fn: fn, field: f.text, arg: arg.str}, nil
}
