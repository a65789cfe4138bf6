// The cluster's registry: distribution's registry command with the one storage driver
// k8s-img configures (filesystem, read-only). Upstream's cmd/registry also links the
// Azure, GCS and S3 drivers, the CloudFront middleware and the auth backends, which a
// registry serving its bundle's files never uses and which make most of its build time.
package main

import (
	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

func main() {
	// The commands report their own failures (and exit non-zero).
	_ = registry.RootCmd.Execute()
}
