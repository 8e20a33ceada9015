package licensehttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxBodySize is the largest request body accepted, in bytes.
const MaxBodySize = 64 << 10

// errBadRequest is the cause of every body that is not the documented object.
var errBadRequest = errors.New("licensehttp: bad request body")

// decodeObject reads exactly one JSON object from data whose members are
// all named in allowed (exactly, case-sensitively) and strings, each at
// most once, followed by nothing but white space. An empty body counts
// as {} when emptyOK. It returns the members' values.
func decodeObject(data []byte, allowed []string, emptyOK bool) (map[string]string, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		if emptyOK {
			return map[string]string{}, nil
		}
		return nil, fmt.Errorf("%w: the body is empty; send a JSON object", errBadRequest)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("%w: the body is not a JSON object", errBadRequest)
	}
	out := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: invalid JSON", errBadRequest)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%w: invalid JSON", errBadRequest)
		}
		if !contains(allowed, name) {
			return nil, fmt.Errorf("%w: unknown member %q", errBadRequest, clip(name))
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%w: member %q appears twice", errBadRequest, name)
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: invalid JSON", errBadRequest)
		}
		v, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%w: member %q must be a string", errBadRequest, name)
		}
		out[name] = v
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, fmt.Errorf("%w: invalid JSON", errBadRequest)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", errBadRequest)
	}
	return out, nil
}

// decodeKeyRequest reads {"license_key": "…"}, the body of activate and
// validate; the key must be present and not blank.
func decodeKeyRequest(data []byte) (string, error) {
	obj, err := decodeObject(data, []string{"license_key"}, false)
	if err != nil {
		return "", err
	}
	key, ok := obj["license_key"]
	if !ok || len(bytes.TrimSpace([]byte(key))) == 0 {
		return "", fmt.Errorf("%w: license_key is required", errBadRequest)
	}
	return key, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// clip shortens untrusted text quoted in an answer.
func clip(s string) string {
	const n = 40
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
