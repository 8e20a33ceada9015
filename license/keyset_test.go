package license_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// A statement signed by the embedded key teaches a new key; a restart
// learns it again from the kept statement; every hostile statement is
// refused with its sentinel and teaches nothing.
func TestKeysetStatements(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newVendor(t, 4) // 0 embedded, 1 the next key, 2 and 3 unknown
		kf, _ := v.keyFile(t.TempDir(), "lic_ks", 0)
		cfg := v.machine(t, kf, "m-1", false)
		m := mustOpen(t, cfg)
		byNew := v.token(1, claims("lic_ks"))
		if _, err := m.Validate(byNew); !errors.Is(err, license.ErrUnknownKey) {
			t.Fatalf("a token of the next key before any statement: %v, want ErrUnknownKey", err)
		}
		t0 := time.Now()
		s1 := v.statement(0, t0, 0, 1)
		if err := m.ImportKeyset(s1); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Validate(byNew); err != nil {
			t.Fatalf("a token of the learnt key: %v", err)
		}
		m.Close()
		m = mustOpen(t, cfg)
		defer m.Close()
		if _, err := m.Validate(byNew); err != nil {
			t.Fatalf("after a restart, a token of the learnt key: %v", err)
		}
		// A newer statement signed by the learnt key is accepted.
		if err := m.ImportKeyset(v.statement(1, t0.Add(time.Hour), 1)); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Validate(v.token(0, claims("lic_ks"))); err != nil {
			t.Fatalf("the embedded key is never removed: %v", err)
		}

		notThumb := v.signRaw(0, license.TypeKeyset, map[string]any{"iss": "acme", "iat": t0.Add(2 * time.Hour).Unix(), "jti": "ks_x",
			"keys": []any{map[string]any{"kty": "OKP", "crv": "Ed25519", "x": strings.Repeat("A", 43), "kid": "chosen", "alg": "EdDSA"}}})
		lease, err := v.signer(0).Lease(mint.Lease{LicenseID: "lic_ks", Fingerprint: "fp1.x", Status: license.LeaseActive,
			IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		good := v.statement(0, t0.Add(3*time.Hour), 0, 3)
		cases := []struct {
			name, token string
			want        *license.Error
		}{
			{"signed by an unknown key", v.statement(2, t0.Add(2*time.Hour), 2), license.ErrUnknownKey},
			{"an older statement replayed", s1, license.ErrKeyset},
			{"same iat as the newest", v.statement(0, t0.Add(time.Hour), 0, 2), license.ErrKeyset},
			{"kid not the thumbprint", notThumb, license.ErrKeyset},
			{"a lease as a statement", lease, license.ErrMalformed},
			{"a licence token as a statement", byNew, license.ErrMalformed},
			{"a statement typed as a lease", v.signRaw(0, license.TypeLease, map[string]any{"iss": "acme", "iat": t0.Add(2 * time.Hour).Unix(), "jti": "ks_y", "keys": []any{}}), license.ErrMalformed},
			{"another issuer", v.signRaw(0, license.TypeKeyset, map[string]any{"iss": "evil", "iat": t0.Add(2 * time.Hour).Unix(), "jti": "ks_z", "keys": []any{}}), license.ErrClaims},
			{"no keys", v.signRaw(0, license.TypeKeyset, map[string]any{"iss": "acme", "iat": t0.Add(2 * time.Hour).Unix(), "jti": "ks_z", "keys": []any{}}), license.ErrClaims},
			{"truncated", good[:len(good)-5], license.ErrMalformed},
			{"truncated at a dot", good[:strings.LastIndex(good, ".")+1] + "AA", license.ErrSignature},
			{"bit flipped", flip(good, len(good)/2), nil},
		}
		for _, c := range cases {
			err := m.ImportKeyset(c.token)
			switch {
			case err == nil:
				t.Errorf("%s: accepted", c.name)
			case c.want != nil && !errors.Is(err, c.want):
				t.Errorf("%s: %v, want %v", c.name, err, c.want)
			}
		}
		if _, err := m.Validate(v.token(2, claims("lic_ks"))); !errors.Is(err, license.ErrUnknownKey) {
			t.Fatalf("a hostile statement taught a key: %v", err)
		}
		if _, err := license.NewVerifier(v.embedded()).VerifyLease(s1); !errors.Is(err, license.ErrMalformed) {
			t.Fatalf("a statement as a lease: %v, want ErrMalformed", err)
		}
		if _, err := license.NewVerifier(v.embedded()).Verify(s1); !errors.Is(err, license.ErrMalformed) {
			t.Fatalf("a statement as a licence token: %v, want ErrMalformed", err)
		}
	})
}

// flip changes the character at i of a compact JWS into another
// base64url character, so the token stays well-formed and only what it
// encodes changes (XOR with 1 turned 'A', 'a', 'Z', 'z', '-' and '_' into
// characters outside the alphabet, a malformed token, now and then).
func flip(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// A key learnt and then forgotten (the kept statements lost) is trusted no
// more: a statement it signed is refused.
func TestKeysetForgottenKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newVendor(t, 3)
		kf, _ := v.keyFile(t.TempDir(), "lic_ks", 0)
		cfg := v.machine(t, kf, "m-1", false)
		m := mustOpen(t, cfg)
		t0 := time.Now()
		if err := m.ImportKeyset(v.statement(0, t0, 0, 1)); err != nil {
			t.Fatal(err)
		}
		m.Close()
		chains, _ := filepath.Glob(filepath.Join(cfg.StateDir, "keyset-*.json"))
		if len(chains) != 1 {
			t.Fatalf("kept statements: %v", chains)
		}
		if err := os.Remove(chains[0]); err != nil {
			t.Fatal(err)
		}
		m = mustOpen(t, cfg)
		defer m.Close()
		if err := m.ImportKeyset(v.statement(1, t0.Add(time.Hour), 1, 2)); !errors.Is(err, license.ErrUnknownKey) {
			t.Fatalf("a statement of a forgotten key: %v, want ErrUnknownKey", err)
		}
	})
}

// No more than MaxLearntKeys are learnt.
func TestKeysetLearntLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := newVendor(t, license.MaxLearntKeys+2)
		kf, _ := v.keyFile(t.TempDir(), "lic_ks", 0)
		m := mustOpen(t, v.machine(t, kf, "m-1", false))
		defer m.Close()
		t0 := time.Now()
		for i := 1; i <= license.MaxLearntKeys; i++ {
			if err := m.ImportKeyset(v.statement(0, t0.Add(time.Duration(i)*time.Second), 0, i)); err != nil {
				t.Fatalf("key %d: %v", i, err)
			}
		}
		err := m.ImportKeyset(v.statement(0, t0.Add(time.Hour), 0, license.MaxLearntKeys+1))
		if !errors.Is(err, license.ErrKeyset) {
			t.Fatalf("the %dth learnt key: %v, want ErrKeyset", license.MaxLearntKeys+1, err)
		}
	})
}

func FuzzVerifyKeyset(f *testing.F) {
	v := newVendor(f, 2)
	f.Add(v.statement(0, time.Unix(1764583200, 0), 0, 1))
	f.Add(v.signRaw(0, license.TypeKeyset, map[string]any{"iss": "acme", "iat": 1, "jti": "j", "keys": []any{map[string]any{"kty": "RSA"}}}))
	f.Add(v.signRaw(0, license.TypeKeyset, map[string]any{"iss": "acme", "iat": 1, "jti": "j", "keys": "x"}))
	ver := license.NewVerifier(v.embedded())
	f.Fuzz(func(t *testing.T, token string) {
		ks, err := ver.VerifyKeyset(token)
		if err != nil {
			if license.Code(err) == "" {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if len(ks.KeyIDs) == 0 {
			t.Fatal("accepted a statement with no keys")
		}
	})
}
