package strictjson

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects a document may have.
const MaxDepth = 32

// Errors returned by the reader. Every syntax problem wraps ErrSyntax.
var (
	ErrSyntax    = errors.New("strictjson: invalid JSON")
	ErrDuplicate = errors.New("strictjson: duplicate object member")
	ErrDepth     = errors.New("strictjson: nesting too deep")
	ErrType      = errors.New("strictjson: unexpected value type")
)

// Kind is the type of the next JSON value.
type Kind uint8

// The kinds of JSON value.
const (
	Invalid Kind = iota
	String
	Number
	Object
	Array
	Bool
	Null
)

// Reader reads one JSON document from a byte slice. The zero value is not
// usable; call [NewReader].
type Reader struct {
	data  string
	pos   int
	depth int
}

// NewReader returns a reader over a copy of data.
func NewReader(data []byte) *Reader {
	return &Reader{data: string(data)}
}

// NewStringReader returns a reader over data. Strings it returns that
// needed no unescaping share memory with data, so reading a document costs
// few allocations.
func NewStringReader(data string) *Reader {
	return &Reader{data: data}
}

func (r *Reader) skipSpace() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// Peek reports the kind of the next value without consuming it.
func (r *Reader) Peek() Kind {
	r.skipSpace()
	if r.pos >= len(r.data) {
		return Invalid
	}
	switch c := r.data[r.pos]; {
	case c == '"':
		return String
	case c == '{':
		return Object
	case c == '[':
		return Array
	case c == 't' || c == 'f':
		return Bool
	case c == 'n':
		return Null
	case c == '-' || (c >= '0' && c <= '9'):
		return Number
	}
	return Invalid
}

// End checks that only white space remains.
func (r *Reader) End() error {
	r.skipSpace()
	if r.pos != len(r.data) {
		return syntaxErr("trailing data")
	}
	return nil
}

func syntaxErr(msg string) error {
	return &syntaxError{msg: msg}
}

type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return "strictjson: invalid JSON: " + e.msg }
func (e *syntaxError) Unwrap() error { return ErrSyntax }

// Object reads an object, calling fn for each member with its unescaped
// name. fn must consume the member's value (with a typed read or
// [Reader.Skip]). Duplicate names are an error.
func (r *Reader) Object(fn func(name string) error) error {
	r.skipSpace()
	if r.pos >= len(r.data) || r.data[r.pos] != '{' {
		return ErrType
	}
	if r.depth++; r.depth > MaxDepth {
		return ErrDepth
	}
	r.pos++
	// Names seen so far, as offsets into seen.
	var seenBuf [16]string
	seen := seenBuf[:0]
	r.skipSpace()
	if r.pos < len(r.data) && r.data[r.pos] == '}' {
		r.pos++
		r.depth--
		return nil
	}
	for {
		r.skipSpace()
		if r.pos >= len(r.data) || r.data[r.pos] != '"' {
			return syntaxErr("expected member name")
		}
		name, err := r.readString()
		if err != nil {
			return err
		}
		for _, s := range seen {
			if s == name {
				return ErrDuplicate
			}
		}
		if len(seen) < 4096 {
			seen = append(seen, name)
		} else {
			return syntaxErr("too many members")
		}
		r.skipSpace()
		if r.pos >= len(r.data) || r.data[r.pos] != ':' {
			return syntaxErr("expected ':'")
		}
		r.pos++
		if err := fn(name); err != nil {
			return err
		}
		r.skipSpace()
		if r.pos >= len(r.data) {
			return syntaxErr("unterminated object")
		}
		switch r.data[r.pos] {
		case ',':
			r.pos++
		case '}':
			r.pos++
			r.depth--
			return nil
		default:
			return syntaxErr("expected ',' or '}'")
		}
	}
}

// Array reads an array, calling fn once per element; fn must consume the
// element.
func (r *Reader) Array(fn func() error) error {
	r.skipSpace()
	if r.pos >= len(r.data) || r.data[r.pos] != '[' {
		return ErrType
	}
	if r.depth++; r.depth > MaxDepth {
		return ErrDepth
	}
	r.pos++
	r.skipSpace()
	if r.pos < len(r.data) && r.data[r.pos] == ']' {
		r.pos++
		r.depth--
		return nil
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		r.skipSpace()
		if r.pos >= len(r.data) {
			return syntaxErr("unterminated array")
		}
		switch r.data[r.pos] {
		case ',':
			r.pos++
		case ']':
			r.pos++
			r.depth--
			return nil
		default:
			return syntaxErr("expected ',' or ']'")
		}
	}
}

// String reads a string value.
func (r *Reader) String() (string, error) {
	r.skipSpace()
	if r.pos >= len(r.data) || r.data[r.pos] != '"' {
		return "", ErrType
	}
	return r.readString()
}

// readString reads a string starting at the opening quote. When the
// string has no escapes it returns a substring of the input; otherwise the
// unescaped text in a fresh string.
func (r *Reader) readString() (string, error) {
	r.pos++ // opening quote
	start := r.pos
	for r.pos < len(r.data) {
		c := r.data[r.pos]
		switch {
		case c == '"':
			s := r.data[start:r.pos]
			r.pos++
			return s, nil
		case c == '\\':
			return r.readEscaped(start)
		case c < 0x20:
			return "", syntaxErr("control character in string")
		case c < utf8.RuneSelf:
			r.pos++
		default:
			ru, size := utf8.DecodeRuneInString(r.data[r.pos:])
			if ru == utf8.RuneError && size <= 1 {
				return "", syntaxErr("invalid UTF-8")
			}
			r.pos += size
		}
	}
	return "", syntaxErr("unterminated string")
}

func (r *Reader) readEscaped(start int) (string, error) {
	out := make([]byte, 0, r.pos-start+16)
	out = append(out, r.data[start:r.pos]...)
	for r.pos < len(r.data) {
		c := r.data[r.pos]
		switch {
		case c == '"':
			r.pos++
			return string(out), nil
		case c == '\\':
			if r.pos+1 >= len(r.data) {
				return "", syntaxErr("unterminated escape")
			}
			e := r.data[r.pos+1]
			r.pos += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				ru, ok := r.hex4()
				if !ok {
					return "", syntaxErr("bad \\u escape")
				}
				if utf16.IsSurrogate(ru) {
					// Must be a high surrogate followed by \uDC00-\uDFFF.
					if ru >= 0xDC00 || r.pos+1 >= len(r.data) || r.data[r.pos] != '\\' || r.data[r.pos+1] != 'u' {
						return "", syntaxErr("lone surrogate")
					}
					r.pos += 2
					lo, ok := r.hex4()
					if !ok || lo < 0xDC00 || lo > 0xDFFF {
						return "", syntaxErr("lone surrogate")
					}
					ru = utf16.DecodeRune(ru, lo)
				}
				out = utf8.AppendRune(out, ru)
			default:
				return "", syntaxErr("bad escape")
			}
		case c < 0x20:
			return "", syntaxErr("control character in string")
		case c < utf8.RuneSelf:
			out = append(out, c)
			r.pos++
		default:
			ru, size := utf8.DecodeRuneInString(r.data[r.pos:])
			if ru == utf8.RuneError && size <= 1 {
				return "", syntaxErr("invalid UTF-8")
			}
			out = append(out, r.data[r.pos:r.pos+size]...)
			r.pos += size
		}
	}
	return "", syntaxErr("unterminated string")
}

func (r *Reader) hex4() (rune, bool) {
	if r.pos+4 > len(r.data) {
		return 0, false
	}
	var v rune
	for _, c := range r.data[r.pos : r.pos+4] {
		v <<= 4
		switch {
		case c >= '0' && c <= '9':
			v |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			v |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			v |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	r.pos += 4
	return v, true
}

// number scans a JSON number and returns its text and whether it is a
// plain integer (no fraction or exponent).
func (r *Reader) number() (string, bool, error) {
	r.skipSpace()
	start := r.pos
	d := r.data
	integer := true
	if r.pos < len(d) && d[r.pos] == '-' {
		r.pos++
	}
	switch {
	case r.pos < len(d) && d[r.pos] == '0':
		r.pos++
	case r.pos < len(d) && d[r.pos] >= '1' && d[r.pos] <= '9':
		for r.pos < len(d) && d[r.pos] >= '0' && d[r.pos] <= '9' {
			r.pos++
		}
	default:
		return "", false, syntaxErr("bad number")
	}
	if r.pos < len(d) && d[r.pos] == '.' {
		integer = false
		r.pos++
		if !r.digits() {
			return "", false, syntaxErr("bad fraction")
		}
	}
	if r.pos < len(d) && (d[r.pos] == 'e' || d[r.pos] == 'E') {
		integer = false
		r.pos++
		if r.pos < len(d) && (d[r.pos] == '+' || d[r.pos] == '-') {
			r.pos++
		}
		if !r.digits() {
			return "", false, syntaxErr("bad exponent")
		}
	}
	return d[start:r.pos], integer, nil
}

func (r *Reader) digits() bool {
	start := r.pos
	for r.pos < len(r.data) && r.data[r.pos] >= '0' && r.data[r.pos] <= '9' {
		r.pos++
	}
	return r.pos > start
}

// Int reads a number that must be an integer in int64 range, written
// without fraction or exponent.
func (r *Reader) Int() (int64, error) {
	if r.Peek() != Number {
		return 0, ErrType
	}
	text, integer, err := r.number()
	if err != nil {
		return 0, err
	}
	if !integer || len(text) > 20 {
		return 0, ErrType
	}
	v, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, ErrType
	}
	return v, nil
}

// Skip consumes the next value, whatever its kind, checking its syntax.
func (r *Reader) Skip() error {
	switch r.Peek() {
	case String:
		_, err := r.readString()
		return err
	case Number:
		_, _, err := r.number()
		return err
	case Object:
		return r.Object(func(string) error { return r.Skip() })
	case Array:
		return r.Array(r.Skip)
	case Bool, Null:
		for _, lit := range [...]string{"true", "false", "null"} {
			if strings.HasPrefix(r.data[r.pos:], lit) {
				r.pos += len(lit)
				return nil
			}
		}
		return syntaxErr("bad literal")
	}
	return syntaxErr("expected a value")
}

// Raw consumes the next value, checking its syntax, and returns its text.
func (r *Reader) Raw() (string, error) {
	r.skipSpace()
	start := r.pos
	if err := r.Skip(); err != nil {
		return "", err
	}
	return r.data[start:r.pos], nil
}
