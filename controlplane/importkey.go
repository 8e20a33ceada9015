package controlplane

import (
	"context"
	"fmt"
	"slices"

	"github.com/licensekit/licensekit/license/mint"
)

// ImportSigningKey brings an existing private key into the store, sealed
// under the server's secret key like the keys the Server makes itself, and
// publishes it in the JWKS: for a vendor moving its keys from another
// system, or a test whose licences were signed before the Server ran.
// With activate the key becomes the one that signs (the key active before
// stays published, as after POST /signing-keys/{kid}/activate); without,
// it is pending: published, not signing.
//
// The key must be one products accept — an allowed algorithm, RSA of at
// least 2048 bits, a kid that is its thumbprint, halves that agree — or
// the error wraps [ErrSigningKey]. A kid already stored wraps
// [ErrAlreadyExists]. Either way nothing changes. The import is audited as
// "signing.manage" with op "import" by actor "system".
func (s *Server) ImportSigningKey(ctx context.Context, key *mint.Key, activate bool) error {
	if key == nil {
		return fmt.Errorf("%w: no key", ErrSigningKey)
	}
	if !slices.Contains(signingAlgs, key.Alg) {
		return fmt.Errorf("%w: algorithm %.20q", ErrSigningKey, key.Alg)
	}
	// The round trip through a private JWK applies every check ParseKey
	// makes of a stored key, so an imported key loads again at restart.
	priv, err := key.MarshalPrivateJWK()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSigningKey, err)
	}
	checked, err := mint.ParseKey(priv)
	clear(priv)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSigningKey, err)
	}
	sk, err := s.sealSigningKey(checked)
	if err != nil {
		return err
	}
	now := s.now()
	ev := Event{Time: now, Actor: "system", Action: "signing.manage", Target: sk.KID,
		Details: map[string]string{"op": "import", "alg": sk.Alg}}
	ks, err := s.keysetEvents(ctx, "import", sk.KID, sk.PublicJWK, "system", "")
	if err != nil {
		return err
	}
	if err := s.store.CreateSigningKey(ctx, sk, append(ks, ev)...); err != nil {
		return fmt.Errorf("controlplane: storing signing key %s: %w", sk.KID, err)
	}
	if activate {
		ev := Event{Time: now, Actor: "system", Action: "signing.manage", Target: sk.KID,
			Details: map[string]string{"op": "activate"}}
		ks, err := s.keysetEvents(ctx, "activate", sk.KID, nil, "system", "")
		if err != nil {
			return err
		}
		if err := s.store.ActivateSigningKey(ctx, sk.KID, now, append(ks, ev)...); err != nil {
			return fmt.Errorf("controlplane: activating signing key %s: %w", sk.KID, err)
		}
	}
	_, err = s.reloadSigning(ctx)
	return err
}

// TokenDigest is the digest a [License] keeps of a slot token
// (PrimaryDigest, SecondaryDigest): the hex SHA-256 of the token's payload
// segment, so that a token is told apart by its signed claims, not by its
// malleable signature. It is "" for a string that is not a compact JWS. A
// program that writes licences to a Store itself (a migration, a test
// harness) sets the digests with it.
func TokenDigest(token string) string { return tokenDigest(token) }
