# SPDX-License-Identifier: MIT
"""Python helpers that the QEMU lab (lab/uglab), the integration suite
(harness/integration) and the bench (harness/bench) share, one concern a
module:

    run      running a command, in a network namespace if asked; Failure
    netns    removing a namespace with what runs in it, and leftovers
    procstat what /proc tells of a process: CPU time, status fields
    wait     polling for a condition
    keys     WireGuard keys made by wg(8), and checking one
    wgquick  reading and writing wg-quick files
    tcpxfer  a TCP transfer both ways between namespaces, checked by hash

lab/run, lab/deploy-gcp and bench.py put harness/ on the module path;
pytest does for the suite (harness/integration/pytest.ini)."""
