// Package mint is the vendor's half of licensing: it makes signing keys and
// signs licence tokens, leases and key files, which products check offline
// with package license. The control plane, license/licensetest and the
// command-line tools all sign through it, so there is one implementation of
// the wire format on the signing side.
//
// # Keys
//
// A [Key] is a private key pinned to one algorithm — EdDSA (Ed25519, the
// default choice), ES256, ES384, RS256 or PS256 — and named by its kid, the
// RFC 7638 SHA-256 thumbprint of its public half, the value
// [license.ParseKeyring] derives on the product side. [GenerateKey] draws a
// fresh key from crypto/rand; [Key.MarshalPrivateJWK] and [ParseKey] store
// and load it as a private JWK; [JWKS] publishes the public halves for
// products to embed.
//
//	key, err := mint.GenerateKey(license.EdDSA)
//	jwks, err := mint.JWKS(key)                      // embed in the product
//	secret, err := key.MarshalPrivateJWK()           // keep on the signing side only
//
// # The trust model of signing
//
// Whoever holds a private key can issue licences, so the package never
// lets one slip out by accident: a Key prints, formats and logs as its
// algorithm and kid only, and refuses json.Marshal. ParseKey refuses keys a
// product would refuse (RSA under 2048 bits, another curve, an alg that
// does not fit), public-only and symmetric keys, a kid that is not the
// thumbprint, and a key whose private and public halves disagree.
//
// A [Signer] writes only what a verifier accepts: every required claim is
// checked before signing ([ErrClaims]), the header holds exactly alg, kid
// and typ ("JWT" for a licence, "lease+jwt" for a lease), ECDSA signatures
// use JOSE's fixed-size r||s form, and times are whole seconds. Both
// tokens of a key file carry the licence's one jti, so a key file is one
// licence whichever slot a machine runs.
//
//	s, err := mint.NewSigner(key, mint.WithIssuer("acme"))
//	tok, err := s.License(mint.Claims{ID: "lic_1", Subject: "sub_1", …})
//	lease, err := s.Lease(mint.Lease{LicenseID: "lic_1", Fingerprint: fp, …})
//
// # Speed
//
// Leases are signed on every heartbeat of every deployed machine. The
// lease header is encoded once per Signer and the claims are appended
// without reflection or maps, so an Ed25519 lease costs little more than
// the bare signature of the same bytes (see BenchmarkSignLease beside
// BenchmarkEd25519Sign).
package mint
