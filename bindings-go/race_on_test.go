//go:build race

package anchorwebhooks

// raceEnabled: the race detector's sync.Pool drops pooled values at random, so allocation counts that rely
// on the pool are checked by test.sh's second run, without -race.
const raceEnabled = true
