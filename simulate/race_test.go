//go:build race

package simulate_test

// raceSlowdown widens time limits: the race detector slows the replay
// several times over, so the speed target is checked without it.
const raceSlowdown = 8
