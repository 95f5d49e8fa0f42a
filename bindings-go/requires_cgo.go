//go:build !cgo

package anchorwebhooks

// The package is cgo over the anchor-webhooks C library: with CGO_ENABLED=0 every other file is excluded,
// and this line fails to compile with a name that says why (see the README's Build section).
var _ = anchorwebhooks_requires_cgo_CGO_ENABLED_1_and_gcc_see_README_Build
