//go:build !race

package isledb_test

const raceBuild = false
