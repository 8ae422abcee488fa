// Keel's build of pulumi-resource-tls (not upstream code).
//
// The pulumi-tls provider module is not downloadable from the Go module proxy here, so keel
// bridges the upstream Terraform provider (terraform-provider-tls) with pulumi-terraform-bridge at
// run time, using the tokens of the published package (module "index").
// Main.Version is set with -ldflags; the bridge refuses to start without it.
package main

import (
	"context"
	"strings"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/hashicorp/terraform-provider-tls/shim"
)

var Version string

// member builds "tls:index/<lowerFirst(name)>:<name>".
func member(name string) string {
	return "tls:index/" + strings.ToLower(name[:1]) + name[1:] + ":" + name
}

func main() {
	resources := map[string]string{
		"tls_cert_request":        "CertRequest",
		"tls_locally_signed_cert": "LocallySignedCert",
		"tls_private_key":         "PrivateKey",
		"tls_self_signed_cert":    "SelfSignedCert",
	}
	dataSources := map[string]string{
		"tls_public_key":  "getPublicKey",
		"tls_certificate": "getCertificate",
	}
	info := tfbridge.ProviderInfo{
		P:                              pf.ShimProvider(shim.NewProvider()),
		Name:                           "tls",
		Version:                        Version,
		MetadataInfo:                   tfbridge.NewProviderMetadata(nil),
		EnableZeroDefaultSchemaVersion: true,
		Resources:                      map[string]*tfbridge.ResourceInfo{},
		DataSources:                    map[string]*tfbridge.DataSourceInfo{},
	}
	for tf, name := range resources {
		info.Resources[tf] = &tfbridge.ResourceInfo{Tok: tokens.Type(member(name))}
	}
	for tf, name := range dataSources {
		info.DataSources[tf] = &tfbridge.DataSourceInfo{Tok: tokens.ModuleMember(member(name))}
	}
	schema := []byte(`{"name":"tls","version":"` + Version + `"}`)
	pf.Main(context.Background(), "tls", info, pf.ProviderMetadata{PackageSchema: schema})
}
