// Keel's build of pulumi-resource-random (not upstream code).
//
// The pulumi-random provider module is not downloadable from the Go module proxy here, so keel
// bridges the same upstream Terraform provider (terraform-provider-random, at the commit the
// pulumi-random release uses) with pulumi-terraform-bridge at run time. Tokens follow the
// published package: random_<x> -> random:index/random<X>:Random<X>, all in module "index".
// Main.Version is set with -ldflags; the bridge refuses to start without it.
package main

import (
	"context"
	"errors"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/terraform-providers/terraform-provider-random/shim"
)

var Version string

// bytesID derives an ID for random_bytes, whose Terraform schema has no id attribute.
func bytesID(_ context.Context, state resource.PropertyMap) (resource.ID, error) {
	v, ok := state["base64"]
	if !ok {
		return "", errors.New("random_bytes state has no base64 property")
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsString() {
		return "", errors.New("random_bytes base64 property is not a string")
	}
	return resource.ID(v.StringValue()), nil
}

func main() {
	info := tfbridge.ProviderInfo{
		P:                           pf.ShimProvider(shim.NewProvider()),
		Name:                        "random",
		Version:                     Version,
		MetadataInfo:                tfbridge.NewProviderMetadata(nil),
		EnableAccurateBridgePreview: true,
		EnableRawStateDelta:         true,
		Resources: map[string]*tfbridge.ResourceInfo{
			"random_bytes": {ComputeID: bytesID},
		},
	}
	info.MustComputeTokens(tokens.SingleModule("random_", "index", func(module, name string) (string, error) {
		return tokens.MakeStandard("random")(module, "Random"+name)
	}))
	schema := []byte(`{"name":"random","version":"` + Version + `"}`)
	pf.Main(context.Background(), "random", info, pf.ProviderMetadata{PackageSchema: schema})
}
