# SPDX-License-Identifier: MIT
"""Fixtures for uniguard's integration suite (helpers in uglab.py).

Needs root (network namespaces), the uniguard binary (env UNIGUARD, else
build/uniguard), and wireguard-tools, wireguard-go, iproute2, iputils-ping
and tcpdump.
"""

import os

import pytest

import uglab


@pytest.fixture(scope="session", autouse=True)
def lab_session():
    if os.geteuid() != 0:
        pytest.skip("the integration suite needs root for network namespaces")
    binary = uglab.uniguard_binary()
    if not os.access(binary, os.X_OK):
        pytest.fail("no uniguard binary at %s (set UNIGUARD)" % binary)
    for tool in ("ip", "wg", "wg-quick", "wireguard-go", "ping"):
        if not uglab.which(tool):
            pytest.fail("missing tool: %s" % tool)
    uglab.clean_leftovers()
    yield
    uglab.clean_leftovers()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def lab(request, tmp_path):
    """A Lab whose namespaces, links and processes go when the test ends;
    on failure the processes' logs are printed first."""
    the_lab = uglab.Lab(tmp_path)
    try:
        yield the_lab
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            for proc in the_lab.processes:
                print("----- %s (pid %d) -----" % (proc.name, proc.pid))
                print(proc.log()[-8000:])
        the_lab.close()
        # uniguard never logs a key, whatever the test did.
        leaks = {proc.name: uglab.leaked_secrets(proc.log())
                 for proc in the_lab.processes
                 if proc.name.startswith("uniguard")}
        uglab.SECRETS.clear()
        assert not any(leaks.values()), "keys in the logs: %s" % leaks
