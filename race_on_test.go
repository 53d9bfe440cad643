//go:build race

package isledb_test

// raceBuild: the race detector is on (sync.Pool then drops items at random, so heap
// allocation counts are not what a normal build sees).
const raceBuild = true
