// Command etcd is the upstream etcd server. The etcd main package lives in a
// module that `go install` cannot build, so this wrapper calls etcdmain directly.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
