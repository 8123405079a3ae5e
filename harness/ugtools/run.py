# SPDX-License-Identifier: MIT
"""Running a command to its end, in a network namespace if asked."""

import os
import shlex
import subprocess


class Failure(RuntimeError):
    """A failure told in one line: a command that could not start, timed
    out or exited non-zero, or anything a caller explains the same way."""


def run(argv, ns=None, check=True, timeout=60, input=None, env=None,
        cwd=None, echo=None):
    """Runs argv (a list, or a string split as a shell would), in network
    namespace ns if given, with env added to this process's environment;
    returns the CompletedProcess, its output as text.  A command that
    cannot start or times out, or with check exits non-zero, raises
    Failure.  echo, if given, is called with the command line first."""
    if isinstance(argv, str):
        argv = shlex.split(argv)
    argv = [str(a) for a in argv]
    if ns:
        argv = ["ip", "netns", "exec", ns] + argv
    if echo:
        echo("$ " + " ".join(shlex.quote(a) for a in argv))
    try:
        cp = subprocess.run(argv, input=input, capture_output=True,
                            text=True, timeout=timeout, cwd=cwd,
                            env=dict(os.environ, **env) if env else None)
    except subprocess.TimeoutExpired:
        raise Failure("timed out after %ds: %s"
                      % (timeout, " ".join(argv))) from None
    except OSError as e:
        raise Failure("cannot run %s: %s" % (argv[0], e.strerror)) from None
    if check and cp.returncode != 0:
        msg = (cp.stderr or cp.stdout).strip().splitlines()
        raise Failure("%s: exit %d%s" % (
            " ".join(argv), cp.returncode,
            (": " + " / ".join(msg[:3])) if msg else ""))
    return cp
