//go:build !race

package simulate_test

const raceSlowdown = 1
