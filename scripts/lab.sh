#!/usr/bin/env bash
# The tern lab: 3 nodes + a top-of-rack BIRD router + an outside client in network namespaces.
# Built in issue 4; until then this says so and fails rather than pretending.
set -euo pipefail
echo "scripts/lab.sh: the multi-node lab is not built yet (issue 4: the node agent)." >&2
echo "Run 'sudo scripts/test.sh' to see the BGP speaker interoperate with BIRD, FRR, GoBGP and ExaBGP." >&2
exit 1
