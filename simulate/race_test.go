//go:build race

package simulate_test

// raceDetector: the race detector slows the replay several times over, so
// the speed target is checked at full size without it.
const raceDetector = true
