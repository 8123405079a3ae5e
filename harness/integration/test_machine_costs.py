# SPDX-License-Identifier: MIT
"""make bench's probe of the machine's own costs
(harness/bench/machine_costs.c): built as the bench builds it, run, and
its figures checked against each other, since every hand-off between
processes contains system calls of its own."""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(os.path.dirname(HERE), "bench")
sys.path.insert(0, BENCH)
import bench  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def lab_session():
    """No namespaces, no root: two processes and a pipe."""
    yield


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    prog = bench.compile_program(str(tmp_path_factory.mktemp("costs")),
                                 "machine_costs.c", extra_flags=["-Werror"])
    out = subprocess.run([prog], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    return bench.json_lines(out)


def test_every_figure_is_there_and_positive(figures):
    keys = {"syscall_us", "handoff_one_cpu_us", "handoff_after_quiet_us"}
    if (os.cpu_count() or 1) >= 2:
        keys.add("handoff_two_cpus_us")
    assert keys <= set(figures)
    for k in keys:
        assert figures[k] > 0, k


def test_a_hand_off_costs_more_than_a_system_call(figures):
    # Half a round trip is a write, a wake-up and the read's return.
    assert figures["handoff_one_cpu_us"] > figures["syscall_us"]
    assert figures["handoff_after_quiet_us"] > figures["syscall_us"]


def test_the_bench_reports_them(figures):
    res = {"meta": {"date": "2026-01-01 00:00", "host": "h", "cpu": "c",
                    "cpus": 2, "kernel": "k", "quick": True, "reps": 1,
                    "load_start": [0, 0, 0], "load_end": [0, 0, 0],
                    "busy_start": 0.0, "busy_middle": 0.0,
                    "seconds": 1.0, "wireguard_go": {}, "labels": {}},
           "machine": {k: bench.summary([v]) for k, v in figures.items()}}
    text = bench.markdown(res)
    assert "a system call, round trip (µs) | %.2f" % \
        figures["syscall_us"] in text
    assert "after 10 ms of quiet" in text
