package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"
)

// Output formats of -o.
const (
	formatTable = "table"
	formatJSON  = "json"
)

// clean makes text from a server or a file safe to print on a terminal:
// valid UTF-8, control characters (escape sequences, tabs, newlines) shown
// as "?", at most n characters with "…" after a cut.
func clean(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	var b strings.Builder
	count := 0
	for _, r := range s {
		if count == n {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) || r == utf8.RuneError {
			r = '?'
		}
		b.WriteRune(r)
		count++
	}
	return b.String()
}

// cutToken shows the start of a licence token or other long secret-ish
// text and its length, enough to tell two apart but not to use one.
func cutToken(tok string) string {
	if tok == "" {
		return "-"
	}
	if len(tok) <= 24 {
		return clean(tok, 24)
	}
	return fmt.Sprintf("%s… (%d chars)", clean(tok[:20], 20), len(tok))
}

// cell is a table cell: cleaned, at most 60 characters, "-" when empty.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return clean(s, 60)
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer) *table {
	return &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
}

// row writes one row; every value goes through cell.
func (t *table) row(cols ...string) {
	for i, c := range cols {
		if i > 0 {
			fmt.Fprint(t.tw, "\t")
		}
		fmt.Fprint(t.tw, cell(c))
	}
	fmt.Fprint(t.tw, "\n")
}

// rawRow writes a row of values the caller already made safe.
func (t *table) rawRow(cols ...string) {
	fmt.Fprint(t.tw, strings.Join(cols, "\t")+"\n")
}

func (t *table) flush() error { return t.tw.Flush() }

// writeJSON writes v indented, with a final newline. A json.RawMessage is
// re-indented as is, keeping every member the server sent.
func writeJSON(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("licensectl: encoding the output: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, data, "", "  "); err != nil {
		return fmt.Errorf("licensectl: encoding the output: %w", err)
	}
	buf.WriteByte('\n')
	_, err = w.Write(buf.Bytes())
	return err
}

// joinClean joins values with sep for one cell.
func joinClean(vals []string, sep string) string {
	if len(vals) == 0 {
		return ""
	}
	return strings.Join(vals, sep)
}
