# SPDX-License-Identifier: MIT
"""Python helpers that the QEMU lab (lab/uglab) and the integration suite
(harness/integration) share, one concern a module:

    run      running a command, in a network namespace if asked; Failure
    wait     polling for a condition
    keys     WireGuard keys made by wg(8), and checking one
    wgquick  reading and writing wg-quick files
    tcpxfer  a TCP transfer both ways between namespaces, checked by hash

lab/run and lab/deploy-gcp put harness/ on the module path; pytest does
for the suite (harness/integration/pytest.ini)."""
