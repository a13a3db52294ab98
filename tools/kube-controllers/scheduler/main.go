// Command kube-scheduler is the upstream scheduler, built from the published k8s.io/kubernetes
// module at the same version as the test control plane's kube-apiserver.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"
)

func main() {
	os.Exit(cli.Run(app.NewSchedulerCommand()))
}
