#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs whatever is missing (tests/setup.sh),
# then runs `cargo test --workspace` (extra arguments go to cargo test).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
export PATH="$PWD/target/tools/bin:$PATH"
exec cargo test --workspace "$@"
