package mint

import "errors"

// The sentinel errors. Every error the package returns wraps one of them;
// match with [errors.Is].
var (
	// ErrAlgorithm: the algorithm is unknown, or does not fit the key.
	ErrAlgorithm = errors.New("mint: unsupported algorithm")
	// ErrKey: the key is missing, malformed, public only, weak, inconsistent, or its kid is not its thumbprint.
	ErrKey = errors.New("mint: invalid key")
	// ErrClaims: a required claim is missing, or a claim has a value a verifier would refuse.
	ErrClaims = errors.New("mint: invalid claims")
	// ErrHeader: a header given to [Signer.SignCompact] names another algorithm or key, or cannot be encoded.
	ErrHeader = errors.New("mint: invalid header")
	// ErrKeyFile: a key file would have no token, or its claims would differ from its tokens'.
	ErrKeyFile = errors.New("mint: invalid key file")
)
