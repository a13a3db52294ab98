//go:build tools

// Package tools pins sigs.k8s.io/krew so that `go build sigs.k8s.io/krew/cmd/krew`
// and `.../cmd/validate-krew-manifest` resolve from this module's go.sum (cmd/krew/cmd is the importable half of both).
package tools

import (
	_ "sigs.k8s.io/krew/cmd/krew/cmd"
)
