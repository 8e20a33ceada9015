package license

// syncDir does nothing on Windows, where a directory cannot be opened for
// syncing.
func syncDir(string) error { return nil }
