package controlplane

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// LoadOrCreateSecretKey reads the server's 32-byte secret key from path,
// or, when there is no file, creates one with 32 bytes from crypto/rand and
// mode 0600. It refuses a file of another size, and one that the group or
// others may read or write.
func LoadOrCreateSecretKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createSecretKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSecretKey, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSecretKey, err)
	}
	switch {
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrSecretKey, path)
	case fi.Mode().Perm()&0o077 != 0:
		return nil, fmt.Errorf("%w: %s has mode %v; it must be readable by its owner only (chmod 600)", ErrSecretKey, path, fi.Mode().Perm())
	case fi.Size() != secretKeySize:
		return nil, fmt.Errorf("%w: %s holds %d bytes, want %d", ErrSecretKey, path, fi.Size(), secretKeySize)
	}
	key := make([]byte, secretKeySize)
	if _, err := io.ReadFull(f, key); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSecretKey, err)
	}
	return key, nil
}

func createSecretKey(path string) ([]byte, error) {
	key := make([]byte, secretKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSecretKey, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSecretKey, err)
	}
	_, err = f.Write(key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("%w: writing %s: %v", ErrSecretKey, path, err)
	}
	return key, nil
}
