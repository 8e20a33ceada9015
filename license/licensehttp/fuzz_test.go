package licensehttp

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecodeKeyRequest: the body decoder never panics, refuses with
// errBadRequest, and accepts only what encoding/json reads the same way.
func FuzzDecodeKeyRequest(f *testing.F) {
	for _, s := range []string{
		`{"license_key":"eyJ.a.b"}`, `{}`, ``, ` `, `[]`, `null`, `{"license_key":1}`,
		`{"license_key":"a","license_key":"b"}`, `{"LICENSE_KEY":"a"}`, `{"license_key":"a"}x`,
		`{"license_key":"\u0000"}`, `{"license_key":"a",}`, `{"license_key":{"a":"b"}}`,
		"{\"license_key\":\"\xff\"}", `{"license_key":"a"} `, `{"license_key":"a"}{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := decodeKeyRequest(data)
		if err != nil {
			if !errors.Is(err, errBadRequest) {
				t.Fatalf("error %v does not wrap errBadRequest", err)
			}
			if key != "" {
				t.Fatalf("a refused body returned a key")
			}
			return
		}
		var v struct {
			LicenseKey *string `json:"license_key"`
		}
		if err := json.Unmarshal(data, &v); err != nil || v.LicenseKey == nil || *v.LicenseKey != key {
			t.Fatalf("accepted %q as %q, encoding/json reads %v (%v)", data, key, v.LicenseKey, err)
		}
		if _, err := decodeObject(data, nil, true); err == nil {
			t.Fatalf("a body with license_key passed as an empty object: %q", data)
		}
	})
}
