// coredns is CoreDNS with only the plugins a real node of `cluster create --provider local` needs
// (Service and pod names from the API server; nothing is forwarded off the machine). The full
// build compiles every cloud provider's SDK; this one compiles in a fraction of the time.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
	"github.com/coredns/coredns/coremain"
)

func init() {
	// The order the plugins run in, as in CoreDNS's plugin.cfg.
	dnsserver.Directives = []string{"bind", "health", "ready", "errors", "log", "cache", "kubernetes"}
}

func main() {
	coremain.Run()
}
