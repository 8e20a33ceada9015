//go:build !race

package grace_test

const raceEnabled = false
