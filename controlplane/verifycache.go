package controlplane

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/licensekit/licensekit/license"
)

// maxVerified bounds the cache of verified tokens.
const maxVerified = 50_000

// verifyCache remembers licence tokens that verified against one set of
// published keys, keyed by the SHA-256 of the token's exact bytes: the
// same bytes verify the same way until the keys change (a new
// signingState, a new cache). Only the time checks are made again. A
// heartbeat thus costs one signature, not a verification and a signature.
type verifyCache struct {
	mu sync.Mutex
	m  map[[32]byte]*license.License
}

func newVerifyCache() *verifyCache { return &verifyCache{m: map[[32]byte]*license.License{}} }

// verify returns the verified claims of token at now.
func (st *signingState) verify(token string, now time.Time) (*license.License, error) {
	sum := sha256.Sum256([]byte(token))
	c := st.cache
	c.mu.Lock()
	lic := c.m[sum]
	c.mu.Unlock()
	if lic != nil {
		if !now.After(lic.ExpiresAt.Add(license.DefaultLeeway)) &&
			(lic.NotBefore.IsZero() || !now.Before(lic.NotBefore.Add(-license.DefaultLeeway))) {
			return lic, nil
		}
		// Outside its time: let the verifier say why.
	}
	lic, err := st.verifier.Verify(token)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= maxVerified {
		clear(c.m)
	}
	c.m[sum] = lic
	c.mu.Unlock()
	return lic, nil
}
