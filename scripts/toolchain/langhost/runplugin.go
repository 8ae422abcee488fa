// Keel toolchain addition (not upstream code): RunPlugin for the fallback Node.js language host.
//
// The language host source that keel can obtain from the Go module proxy predates RunPlugin support.
// Since CLI 3.221 the engine starts Node.js policy packs (kind "analyzer") and Node.js providers
// (kind "resource") through RunPlugin, so this file provides it: it resolves the @pulumi/pulumi
// launcher script inside the plugin's own node_modules, runs it with node, and streams stdout, stderr
// and the exit code back to the engine.
//
// A policy pack whose PulumiPolicy.yaml sets `runtime.options.typescript: false` (already compiled to
// JavaScript) is started without @pulumi/pulumi's run-policy-pack wrapper, which always registers ts-node
// with type checking; see analyzerLauncher. That saves loading typescript and ts-node (about 0.2 s) and
// a separate node process that only resolved the launcher's path, on every preview.
package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"google.golang.org/protobuf/types/known/structpb"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

type runPluginStream struct {
	mu     *sync.Mutex
	server pulumirpc.LanguageRuntime_RunPluginServer
	stderr bool
}

func (w runPluginStream) Write(p []byte) (int, error) {
	data := append([]byte(nil), p...)
	resp := &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: data}}
	if w.stderr {
		resp = &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: data}}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.server.Send(resp); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (host *nodeLanguageHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	dir, entry := req.GetPwd(), req.GetProgram()
	if info := req.GetInfo(); info != nil {
		dir, entry = info.GetProgramDirectory(), info.GetEntryPoint()
	}
	if entry == "" {
		entry = "."
	}
	program := entry
	if !filepath.IsAbs(program) {
		program = filepath.Join(dir, entry)
	}

	launcher := "run-plugin"
	if req.GetKind() == "analyzer" {
		launcher = "run-policy-pack"
	}
	typescript := typeScriptOption(req.GetInfo().GetOptions(), host.typescript)

	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	if launcher == "run-policy-pack" && !typescript {
		return runNode(server, nodeBin, dir, program, req.GetEnv(), false, "-e", analyzerLauncher, program)
	}
	resolve := exec.Command(nodeBin, "-e",
		"console.log(require.resolve('@pulumi/pulumi/cmd/"+launcher+"'))")
	resolve.Dir = dir
	out, err := resolve.Output()
	if err != nil {
		return fmt.Errorf("could not locate @pulumi/pulumi/cmd/%s from %q; are the plugin's "+
			"dependencies installed (npm ci)? %w", launcher, dir, err)
	}

	args := []string{strings.TrimSpace(string(out))}
	if launcher == "run-policy-pack" {
		// run-policy-pack expects <engine-address> <program>.
		args = append(args, req.GetArgs()...)
		args = append(args, program)
	} else {
		args = append(args, program)
		args = append(args, req.GetArgs()...)
	}

	return runNode(server, nodeBin, dir, program, req.GetEnv(), typescript, args...)
}

// typeScriptOption is the plugin's `runtime.options.typescript` (sent in the request's program info),
// or the host's -typescript flag when the option is absent or not a boolean.
func typeScriptOption(options *structpb.Struct, fallback bool) bool {
	if v, ok := options.GetFields()["typescript"]; ok {
		if b, ok := v.GetKind().(*structpb.Value_BoolValue); ok {
			return b.BoolValue
		}
	}
	return fallback
}

// runNode runs node with args in dir and streams its output and exit code to the engine.
func runNode(
	server pulumirpc.LanguageRuntime_RunPluginServer, nodeBin, dir, program string, env []string,
	typescript bool, args ...string,
) error {
	mu := &sync.Mutex{}
	cmd := exec.Command(nodeBin, args...) // #nosec G204
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if typescript {
		cmd.Env = append(cmd.Env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	cmd.Stdout = io.Writer(runPluginStream{mu: mu, server: server})
	cmd.Stderr = io.Writer(runPluginStream{mu: mu, server: server, stderr: true})

	code := int32(0)
	if err := cmd.Run(); err != nil {
		exitErr, ok := err.(*exec.ExitError)
		if !ok {
			return fmt.Errorf("could not run plugin %q: %w", program, err)
		}
		code = int32(exitErr.ExitCode())
	}
	mu.Lock()
	defer mu.Unlock()
	return server.Send(&pulumirpc.RunPluginResponse{
		Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code},
	})
}
