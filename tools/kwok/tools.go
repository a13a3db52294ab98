//go:build tools

// Package tools pins sigs.k8s.io/kwok, which `go build sigs.k8s.io/kwok/cmd/kwok` builds.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
