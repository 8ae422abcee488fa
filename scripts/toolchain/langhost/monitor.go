// Keel toolchain addition (not upstream code): replaces the older host's monitor proxy and
// synchronous-invoke pipes.
//
// The build script deletes the upstream proxy*.go files and passes the engine's real resource
// monitor address straight to the Node.js SDK, so that monitor RPCs added after the host's release
// (RegisterPackage, SignalAndWaitForShutdown, resource hooks, ...) reach the engine. The names below
// only keep the remaining upstream code compiling: the forwarding server they start is never
// advertised to the program, and no sync pipes are created (the --sync flag is left out).
package main

import (
	"context"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

type monitorProxy struct {
	pulumirpc.UnimplementedResourceMonitorServer

	target pulumirpc.ResourceMonitorClient
}

type noPipes struct{}

func (noPipes) directory() string { return "" }

func (noPipes) shutdown() {}

func createAndServePipes(context.Context, pulumirpc.ResourceMonitorClient) (noPipes, chan error, error) {
	return noPipes{}, make(chan error), nil
}
