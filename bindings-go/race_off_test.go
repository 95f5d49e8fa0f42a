//go:build !race

package anchorwebhooks

// raceEnabled is false: see race_on_test.go.
const raceEnabled = false
