package controlplane

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/licensekit/licensekit/internal/strictjson"
)

// Error codes of the envelope {"error":{"code","message"}}.
const (
	CodeValidation = "VALIDATION"
	// CodeKeyReplaced (400) refuses a licence token that a reset or a
	// renewal replaced: to an activation from a machine the licence is not
	// bound to (the SDK then tries the key file's other slot), and to
	// every offline activation, bound machine or not, since a response
	// file cannot carry the current key.
	CodeKeyReplaced     = "KEY_REPLACED"
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeRevoked         = "REVOKED"
	CodeSuspended       = "SUSPENDED"
	CodeNotFound        = "NOT_FOUND"
	CodeMethod          = "METHOD_NOT_ALLOWED"
	CodeConflict        = "CONFLICT"
	CodeTooLarge        = "TOO_LARGE"
	CodeMediaType       = "UNSUPPORTED_MEDIA_TYPE"
	CodeRateLimited     = "RATE_LIMITED"
	CodeInternal        = "INTERNAL"
	CodeUnavailable     = "UNAVAILABLE"
)

// Request body limits.
const (
	maxAdminBody  = 1 << 20
	maxDeviceBody = 64 << 10
)

// apiError is an answer other than success: a status, a code and a
// message safe to show to the caller.
type apiError struct {
	status     int
	code       string
	message    string
	retryAfter int // seconds, for 429
	cause      error
}

func (e *apiError) Error() string { return e.code + ": " + e.message }
func (e *apiError) Unwrap() error { return e.cause }

func newError(status int, code, msg string) *apiError {
	return &apiError{status: status, code: code, message: msg}
}

func validationf(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, CodeValidation, fmt.Sprintf(format, args...))
}

// errKeyReplaced refuses a replaced licence token: to an activation from a
// machine the licence is not bound to, and to any offline activation.
var errKeyReplaced = newError(http.StatusBadRequest, CodeKeyReplaced, "This licence key was replaced by a reset or a renewal; use the current key")

func notFound(what string) *apiError {
	return newError(http.StatusNotFound, CodeNotFound, what+" not found")
}

func conflictf(format string, args ...any) *apiError {
	return newError(http.StatusConflict, CodeConflict, fmt.Sprintf(format, args...))
}

var (
	errUnauthenticated = newError(http.StatusUnauthorized, CodeUnauthenticated, "Missing, unknown, expired or revoked API key")
	errForbidden       = newError(http.StatusForbidden, CodeForbidden, "Insufficient scope")
)

// storeError maps an error of the Store to an answer.
func storeError(err error, what string) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, ErrNotFound):
		return notFound(what)
	case errors.Is(err, ErrAlreadyExists):
		return &apiError{status: http.StatusConflict, code: CodeConflict, message: what + " already exists", cause: err}
	case errors.Is(err, ErrConflict):
		return &apiError{status: http.StatusConflict, code: CodeConflict, message: "Conflicting change; retry", cause: err}
	case errors.Is(err, ErrInvalid):
		return &apiError{status: http.StatusBadRequest, code: CodeValidation, message: "A value the store cannot keep", cause: err}
	case errors.Is(err, ErrUnavailable):
		return &apiError{status: http.StatusServiceUnavailable, code: CodeUnavailable, message: "Store unavailable", cause: err}
	}
	return &apiError{status: http.StatusInternalServerError, code: CodeInternal, message: "Internal error", cause: err}
}

type envelope struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError writes the envelope for err (an *apiError, or anything else
// as a 500 whose detail stays in the log).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: http.StatusInternalServerError, code: CodeInternal, message: "Internal error", cause: err}
	}
	if ae.status >= 500 {
		s.log.LogAttrs(r.Context(), errorLevel, "controlplane: request failed",
			logAttrs(r, ae.status, ae.cause)...)
	}
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(ae.retryAfter))
	}
	var env envelope
	env.Error.Code, env.Error.Message = ae.code, ae.message
	writeJSON(w, ae.status, env)
}

// writeJSON writes v as the JSON answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":{"code":"INTERNAL","message":"Internal error"}}` + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// readBody checks the content type and reads at most limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || mt != "application/json" {
		return nil, newError(http.StatusUnsupportedMediaType, CodeMediaType, "Content-Type must be application/json")
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	data, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, newError(http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("Request body over %d bytes", limit))
		}
		return nil, validationf("cannot read the request body")
	}
	return data, nil
}

// decodeBody reads an admin request body into v: JSON of the right
// content type, at most 1 MiB, no duplicate or unknown members, one value.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	data, err := readBody(w, r, maxAdminBody)
	if err != nil {
		return err
	}
	return decodeStrict(data, v)
}

// decodeStrict decodes data into v, refusing duplicate members (at any
// depth), unknown members, trailing data and a top-level value that is not
// an object.
func decodeStrict(data []byte, v any) error {
	rd := strictjson.NewReader(data)
	if rd.Peek() != strictjson.Object {
		return validationf("the request body must be a JSON object")
	}
	if err := rd.Skip(); err != nil {
		return validationf("invalid JSON: %s", strings.TrimPrefix(err.Error(), "strictjson: "))
	}
	if err := rd.End(); err != nil {
		return validationf("invalid JSON: %s", strings.TrimPrefix(err.Error(), "strictjson: "))
	}
	if err := exactMembers(data, v); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return validationf("invalid request: %s", clip(strings.TrimPrefix(err.Error(), "json: "), 200))
	}
	return nil
}

// clip makes caller-provided text safe to echo: valid UTF-8, no control
// characters, at most n bytes.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// exactMembers refuses a top-level member whose name is not exactly one of
// v's JSON names. encoding/json matches names without regard to case, so
// without this {"tenant_id":"a","TENANT_ID":"b"} would be read as tenant b
// past the duplicate check, and "Tenant_ID" would pass as known.
func exactMembers(data []byte, v any) error {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	names := make(map[string]bool, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names[name] = true
	}
	rd := strictjson.NewReader(data)
	return rd.Object(func(name string) error {
		if !names[name] {
			return validationf("unknown member %q", clip(name, 40))
		}
		return rd.Skip()
	})
}
