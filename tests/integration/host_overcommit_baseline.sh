#!/bin/sh
# host_overcommit's scenario without the engine, in a guest of its own (so that it runs beside host_overcommit, not
# before it): three VMs overcommit the host's memory, and nothing arbitrates. Prints the same figures; asserts that
# the scenario is real: the host's memory pressure over the HostMemoryPressureTarget= that host_overcommit's engine
# is given.
# vmtest-timeout: 420
OVERCOMMIT_RUNS=without
. /vmtest/integration/host_overcommit.sh
