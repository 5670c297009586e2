// pause is the sandbox ("infra") container of the real node's pods: it holds the pod's
// namespaces, reaps orphaned children (it is PID 1 when a pod shares its process namespace)
// and exits at once on SIGTERM or SIGINT. The official image cannot be pulled here, so
// cluster/build-node.sh builds this one and imports it as registry.k8s.io/pause.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
