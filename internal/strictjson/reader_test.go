package strictjson_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/internal/strictjson"
)

// skipAll reads a whole document the generic way: Skip, then End.
func skipAll(doc string) error {
	r := strictjson.NewStringReader(doc)
	if err := r.Skip(); err != nil {
		return err
	}
	return r.End()
}

// nest wraps inner in n levels of open … close.
func nest(open, inner, close string, n int) string {
	return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
}

// members returns an object of n distinct members, then extra.
func members(n int, extra string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"m`)
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(strings.Repeat("y", i/26))
		b.WriteString(`":0`)
	}
	b.WriteString(extra)
	b.WriteString("}")
	return b.String()
}

func TestReaderSkip(t *testing.T) {
	D := strictjson.MaxDepth
	tests := []struct {
		name string
		doc  string
		want error // nil, ErrSyntax, ErrDuplicate or ErrDepth
	}{
		// Valid documents.
		{"empty object", `{}`, nil},
		{"empty array", `[]`, nil},
		{"zero", `0`, nil},
		{"negative zero", `-0`, nil},
		{"numbers", `[1, -1, 0.5, -0.0, 1e5, 1E+5, 1e-5, 123456789012345678901234567890, 1.5e999]`, nil},
		{"string", `"a"`, nil},
		{"literals", `[true, false, null]`, nil},
		{"white space", " \t\r\n{ \"a\" :\t[ 1 ,2 , {\"b\" : null } ] }\n ", nil},
		{"escapes", `"\"\\\/\b\f\n\r\t\u0000\u00e9\uFFFF"`, nil},
		{"surrogate pair", `"\ud83d\ude00"`, nil},
		{"raw UTF-8", "\"é€😀\"", nil},
		{"raw U+FFFD", "\"\xef\xbf\xbd\"", nil},
		{"DEL is no control character", "\"\x7f\"", nil},
		{"names differing in case", `{"exp":1,"Exp":2,"EXP":3}`, nil},
		{"same name in sibling objects", `[{"a":1},{"a":1}]`, nil},
		{"same name at two depths", `{"a":{"a":{"a":1}}}`, nil},
		{"empty name", `{"":1}`, nil},
		{"max depth, arrays", nest("[", "", "]", D), nil},
		{"max depth, objects", nest(`{"a":`, "{}", "}", D-1), nil},
		{"max depth twice in a row", "[" + nest("[", "", "]", D-1) + "," + nest(`{"a":`, "[]", "}", D-2) + "]", nil},
		{"4096 members", members(4096, ""), nil},

		// Duplicates, compared after unescaping, at every depth.
		{"duplicate", `{"a":1,"a":2}`, strictjson.ErrDuplicate},
		{"duplicate, same value", `{"exp":1,"exp":1}`, strictjson.ErrDuplicate},
		{"duplicate via \\u escape", `{"exp":1,"\u0065xp":2}`, strictjson.ErrDuplicate},
		{"duplicate via \\u escape, both escaped", `{"\u0065xp":1,"\u0065\u0078p":2}`, strictjson.ErrDuplicate},
		{"duplicate via \\/", `{"a/":1,"a\/":2}`, strictjson.ErrDuplicate},
		{"duplicate via surrogate pair", `{"😀":1,"\ud83d\ude00":2}`, strictjson.ErrDuplicate},
		{"duplicate empty name", `{"":1,"":2}`, strictjson.ErrDuplicate},
		{"duplicate in nested object", `{"a":{"b":1,"b":2}}`, strictjson.ErrDuplicate},
		{"duplicate in array element", `[1,{"x":[],"x":{}}]`, strictjson.ErrDuplicate},
		{"duplicate after 16 members", members(20, `,"ma":1`), strictjson.ErrDuplicate},
		{"duplicate after the nested object closes", `{"a":{"b":1},"b":2,"a":3}`, strictjson.ErrDuplicate},

		// Depth.
		{"too deep, arrays", nest("[", "", "]", D+1), strictjson.ErrDepth},
		{"too deep, objects", nest(`{"a":`, "{}", "}", D), strictjson.ErrDepth},
		{"too deep, mixed", nest(`[{"a":`, "[]", "}]", D/2), strictjson.ErrDepth},
		{"too deep, huge", nest("[", "", "]", 100000), strictjson.ErrDepth},

		// Invalid UTF-8, raw or after an escape, in values and names.
		{"invalid byte", "\"\xff\"", strictjson.ErrSyntax},
		{"truncated sequence", "\"\xc3\"", strictjson.ErrSyntax},
		{"overlong encoding", "\"\xc0\xaf\"", strictjson.ErrSyntax},
		{"UTF-8-encoded surrogate", "\"\xed\xa0\x80\"", strictjson.ErrSyntax},
		{"beyond U+10FFFF", "\"\xf4\x90\x80\x80\"", strictjson.ErrSyntax},
		{"invalid after an escape", "\"\\n\xff\"", strictjson.ErrSyntax},
		{"invalid in a name", "{\"\xfe\":1}", strictjson.ErrSyntax},
		{"invalid outside strings", "[\xff]", strictjson.ErrSyntax},

		// Lone surrogates.
		{"lone high surrogate", `"\ud800"`, strictjson.ErrSyntax},
		{"lone low surrogate", `"\udc00"`, strictjson.ErrSyntax},
		{"high surrogate then letter", `"\ud800x"`, strictjson.ErrSyntax},
		{"high surrogate then BMP escape", `"\ud800\u0041"`, strictjson.ErrSyntax},
		{"two high surrogates", `"\ud800\ud800"`, strictjson.ErrSyntax},
		{"swapped pair", `"\ude00\ud83d"`, strictjson.ErrSyntax},
		{"high surrogate at end", `"\ud83d`, strictjson.ErrSyntax},
		{"lone surrogate in a name", `{"\udfff":1}`, strictjson.ErrSyntax},

		// Control characters and bad escapes.
		{"raw newline", "\"a\nb\"", strictjson.ErrSyntax},
		{"raw tab", "\"a\tb\"", strictjson.ErrSyntax},
		{"raw NUL", "\"\x00\"", strictjson.ErrSyntax},
		{"raw 0x1f", "\"\x1f\"", strictjson.ErrSyntax},
		{"control after an escape", "\"\\t\x01\"", strictjson.ErrSyntax},
		{"bad escape", `"\x41"`, strictjson.ErrSyntax},
		{"single quote escape", `"\'"`, strictjson.ErrSyntax},
		{"short \\u", `"\u12"`, strictjson.ErrSyntax},
		{"non-hex \\u", `"\u12G4"`, strictjson.ErrSyntax},
		{"escape at end", `"\`, strictjson.ErrSyntax},
		{"unterminated string", `"abc`, strictjson.ErrSyntax},

		// Numbers.
		{"leading zero", `01`, strictjson.ErrSyntax},
		{"negative leading zero", `-01`, strictjson.ErrSyntax},
		{"leading zero in array", `[00]`, strictjson.ErrSyntax},
		{"trailing dot", `1.`, strictjson.ErrSyntax},
		{"dot before exponent", `1.e5`, strictjson.ErrSyntax},
		{"lone minus", `-`, strictjson.ErrSyntax},
		{"double minus", `--1`, strictjson.ErrSyntax},
		{"plus sign", `+1`, strictjson.ErrSyntax},
		{"leading dot", `.5`, strictjson.ErrSyntax},
		{"minus dot", `-.5`, strictjson.ErrSyntax},
		{"empty exponent", `1e`, strictjson.ErrSyntax},
		{"signed empty exponent", `1e+`, strictjson.ErrSyntax},
		{"hex", `0x10`, strictjson.ErrSyntax},
		{"Infinity", `Infinity`, strictjson.ErrSyntax},
		{"NaN", `[NaN]`, strictjson.ErrSyntax},

		// Literals.
		{"short literal", `tru`, strictjson.ErrSyntax},
		{"capitalised literal", `True`, strictjson.ErrSyntax},
		{"literal with tail", `nulll`, strictjson.ErrSyntax},
		{"literal glued to a value", `[truefalse]`, strictjson.ErrSyntax},

		// Structure and trailing data.
		{"empty input", ``, strictjson.ErrSyntax},
		{"only white space", " \n", strictjson.ErrSyntax},
		{"byte-order mark", "\xef\xbb\xbf{}", strictjson.ErrSyntax},
		{"non-JSON white space", "\f{}", strictjson.ErrSyntax},
		{"NBSP", "{}\u00a0", strictjson.ErrSyntax},
		{"two documents", `{} {}`, strictjson.ErrSyntax},
		{"two numbers", `1 2`, strictjson.ErrSyntax},
		{"text after a string", `"a"x`, strictjson.ErrSyntax},
		{"extra bracket", `[]]`, strictjson.ErrSyntax},
		{"extra brace", `{}}`, strictjson.ErrSyntax},
		{"trailing comma after value", `null,`, strictjson.ErrSyntax},
		{"trailing NUL", "{}\x00", strictjson.ErrSyntax},
		{"name without value", `{"a"}`, strictjson.ErrSyntax},
		{"missing value", `{"a":}`, strictjson.ErrSyntax},
		{"lone comma", `{,}`, strictjson.ErrSyntax},
		{"trailing comma, array", `[1,]`, strictjson.ErrSyntax},
		{"trailing comma, object", `{"a":1,}`, strictjson.ErrSyntax},
		{"leading comma", `[,1]`, strictjson.ErrSyntax},
		{"missing comma", `[1 2]`, strictjson.ErrSyntax},
		{"number as name", `{1:2}`, strictjson.ErrSyntax},
		{"single quotes", `{'a':1}`, strictjson.ErrSyntax},
		{"unquoted name", `{a:1}`, strictjson.ErrSyntax},
		{"unterminated array", `[1`, strictjson.ErrSyntax},
		{"unterminated object", `{"a":1`, strictjson.ErrSyntax},
		{"unterminated after colon", `{"a":`, strictjson.ErrSyntax},
		{"mismatched close", `[}`, strictjson.ErrSyntax},
		{"comment", `{}/**/`, strictjson.ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := skipAll(tt.doc)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			// Both constructors read the same way.
			r := strictjson.NewReader([]byte(tt.doc))
			err2 := r.Skip()
			if err2 == nil {
				err2 = r.End()
			}
			if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
				t.Fatalf("NewReader: %v; NewStringReader: %v", err2, err)
			}
		})
	}
}

// TestReaderMemberLimit pins the one limit that is not RFC 8259: an object
// may hold at most 4096 members (it bounds the quadratic duplicate check).
func TestReaderMemberLimit(t *testing.T) {
	if err := skipAll(members(4097, "")); !errors.Is(err, strictjson.ErrSyntax) {
		t.Fatalf("4097 members: got %v, want ErrSyntax", err)
	}
}

func TestReaderInt(t *testing.T) {
	tests := []struct {
		doc  string
		want int64
		err  error // ErrType or ErrSyntax
	}{
		{"0", 0, nil},
		{"-0", 0, nil},
		{" 1890000000 ", 1890000000, nil},
		{"-42", -42, nil},
		{"9223372036854775807", math.MaxInt64, nil},
		// BUG: Int refuses any 20-character number, so these negative
		// int64 values are ErrType although documented as "in int64 range";
		// fix reader.go Int: drop the len(text) > 19 test (ParseInt checks
		// the range) or allow 20 characters.
		{"-9223372036854775807", -math.MaxInt64, nil},
		{"-9223372036854775808", math.MinInt64, nil},
		{"9223372036854775808", 0, strictjson.ErrType},
		{"-9223372036854775809", 0, strictjson.ErrType},
		{"99999999999999999999", 0, strictjson.ErrType},
		{"123456789012345678901234567890", 0, strictjson.ErrType},
		{"1.0", 0, strictjson.ErrType},
		{"1.5", 0, strictjson.ErrType},
		{"1e3", 0, strictjson.ErrType},
		{"1E0", 0, strictjson.ErrType},
		{"-1e-0", 0, strictjson.ErrType},
		{`"1"`, 0, strictjson.ErrType},
		{"null", 0, strictjson.ErrType},
		{"true", 0, strictjson.ErrType},
		{"[1]", 0, strictjson.ErrType},
		{"{}", 0, strictjson.ErrType},
		{"", 0, strictjson.ErrType},
		{"-", 0, strictjson.ErrSyntax},
		{"-x", 0, strictjson.ErrSyntax},
		{"1.", 0, strictjson.ErrSyntax},
		{"1e", 0, strictjson.ErrSyntax},
		{"01", 0, strictjson.ErrSyntax}, // Int reads 0; End finds the 1
		{"+1", 0, strictjson.ErrType},
		{".5", 0, strictjson.ErrType},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			r := strictjson.NewStringReader(tt.doc)
			got, err := r.Int()
			if err == nil {
				err = r.End()
			}
			if tt.err == nil {
				if err != nil || got != tt.want {
					t.Fatalf("got %d, %v; want %d", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("got %d, %v; want %v", got, err, tt.err)
			}
		})
	}
}

func TestReaderString(t *testing.T) {
	tests := []struct {
		doc, want string
		err       error
	}{
		{`"plain"`, "plain", nil},
		{`""`, "", nil},
		{`"\"\\\/\b\f\n\r\t"`, "\"\\/\b\f\n\r\t", nil},
		{`"\u0041\u00e9\u20ac\ud83d\ude00"`, "Aé€😀", nil},
		{`"\u0000"`, "\x00", nil},
		{"\"é\\u00e9\"", "éé", nil},
		{`1`, "", strictjson.ErrType},
		{`null`, "", strictjson.ErrType},
		{`["a"]`, "", strictjson.ErrType},
		{`"\ud800"`, "", strictjson.ErrSyntax},
		{"\"\xff\"", "", strictjson.ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			got, err := strictjson.NewStringReader(tt.doc).String()
			if tt.err == nil && (err != nil || got != tt.want) || tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("got %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

// TestReaderWalk drives Object, Array, Peek and the typed reads together,
// the way the licence code does.
func TestReaderWalk(t *testing.T) {
	doc := ` {"iss":"acme","\u0061ud":["a","b"],"exp":1990000000,"meta":{"k":"v"},"x":[null,true,1.5,{}]} `
	r := strictjson.NewReader([]byte(doc))
	var names []string
	var aud []string
	var exp int64
	err := r.Object(func(name string) error {
		names = append(names, name)
		switch name {
		case "aud":
			if r.Peek() != strictjson.Array {
				t.Errorf("Peek at aud = %v", r.Peek())
			}
			return r.Array(func() error {
				s, err := r.String()
				aud = append(aud, s)
				return err
			})
		case "exp":
			if r.Peek() != strictjson.Number {
				t.Errorf("Peek at exp = %v", r.Peek())
			}
			var err error
			exp, err = r.Int()
			return err
		case "meta":
			return r.Object(func(string) error { _, err := r.String(); return err })
		}
		return r.Skip()
	})
	if err == nil {
		err = r.End()
	}
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "iss,aud,exp,meta,x" || strings.Join(aud, ",") != "a,b" || exp != 1990000000 {
		t.Fatalf("names %q aud %q exp %d", names, aud, exp)
	}

	// Wrong kinds are ErrType, and an error from fn stops the walk.
	if err := strictjson.NewStringReader(`[1]`).Object(func(string) error { return nil }); err != strictjson.ErrType {
		t.Fatalf("Object on an array: %v", err)
	}
	if err := strictjson.NewStringReader(`{"a":1}`).Array(func() error { return nil }); err != strictjson.ErrType {
		t.Fatalf("Array on an object: %v", err)
	}
	stop := errors.New("stop")
	if err := strictjson.NewStringReader(`{"a":1,"b":2}`).Object(func(string) error { return stop }); err != stop {
		t.Fatalf("fn error: %v", err)
	}
	// fn must consume the value.
	if err := strictjson.NewStringReader(`{"a":1}`).Object(func(string) error { return nil }); !errors.Is(err, strictjson.ErrSyntax) {
		t.Fatalf("unconsumed value: %v", err)
	}

	for doc, want := range map[string]strictjson.Kind{
		`"s"`: strictjson.String, `-1`: strictjson.Number, `7`: strictjson.Number, `{}`: strictjson.Object,
		`[]`: strictjson.Array, `true`: strictjson.Bool, `false`: strictjson.Bool, `null`: strictjson.Null,
		``: strictjson.Invalid, `+1`: strictjson.Invalid, `x`: strictjson.Invalid, " \n \"s\"": strictjson.String,
	} {
		if got := strictjson.NewStringReader(doc).Peek(); got != want {
			t.Errorf("Peek(%q) = %v, want %v", doc, got, want)
		}
	}
}

// TestNewReaderCopies checks that NewReader does not alias its input.
func TestNewReaderCopies(t *testing.T) {
	data := []byte(`{"k":"value"}`)
	r := strictjson.NewReader(data)
	copy(data, `{"k":"VALUE"}`)
	var got string
	err := r.Object(func(string) error { var err error; got, err = r.String(); return err })
	if err != nil || got != "value" {
		t.Fatalf("got %q, %v", got, err)
	}
}
