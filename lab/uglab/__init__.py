# SPDX-License-Identifier: MIT
"""The uniguard QEMU lab (lab/run)."""
