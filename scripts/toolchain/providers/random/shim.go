// Package shim exposes the upstream Terraform provider's constructor (keel code, not upstream). Its
// module path sits under the Terraform provider's module path so Go lets it import the provider's
// internal package.
package shim

import (
	tfpf "github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/terraform-providers/terraform-provider-random/internal/provider"
)

func NewProvider() tfpf.Provider { return provider.New() }
