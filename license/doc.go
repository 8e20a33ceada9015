// Package license decides, on the product's own machine and without a
// network, whether the product may run and with which capabilities.
//
// # Verifying licences offline
//
// A vendor signs licence tokens (compact JWS, SPEC §3) with a control-plane
// key. The product embeds the vendor's public keys — typically with
// //go:embed — and turns them into a [Keyring] with [ParseKeyring]. A
// [Verifier] built by [NewVerifier] checks tokens against that keyring:
//
//	keys, err := license.ParseKeyring(embeddedJWKS)
//	v := license.NewVerifier(keys, license.WithIssuer("acme"))
//	kf, err := license.LoadKeyFile("license.json")
//	lic, err := v.VerifyKeyFile(kf)
//	if lic.Has("kyc:write") { … }
//
// # The trust model of verification
//
// Only the keyring is trusted. Everything in a token is hostile input until
// its signature verifies, and the token can never choose how it is checked:
//
//   - Each key is pinned to one algorithm when the keyring is built; the
//     alg header only has to agree with it. "none", HMAC and any algorithm
//     that does not fit the key are refused ([ErrAlgorithm]), so a public
//     key can never be used as an HMAC secret.
//   - The header may hold only alg, kid and typ. Keys or URLs inside a token
//     (jwk, jku, x5u, x5c) are refused, never followed; so are crit, zip and
//     every other member ([ErrMalformed]).
//   - The shape is checked before anything is decoded: at most 16 KiB, three
//     segments of the base64url alphabet, canonical base64, valid JSON
//     without duplicate members at any depth.
//   - Claims are typed strictly; exp is required; dates must be integers
//     before year 9999. Identity is jti plus iss, never the token's bytes
//     (ECDSA signatures are malleable).
//   - Licence tokens and leases (typ "lease+jwt") are told apart by typ and
//     claims, so neither can stand in for the other.
//
// Every refusal wraps exactly one sentinel error ([ErrMalformed],
// [ErrSignature], [ErrExpired], …); [Code] gives its stable machine code.
// Error messages quote at most a short, escaped prefix of untrusted text and
// never a whole token.
package license
