"""The crash matrix (tests/test_crash_matrix.py) for the operations that make an environment: create, its engine given
and downloaded, create --force, create --from-lock, and adopt. A file of its own so that --dist loadfile runs it on
one worker while the other runs the rest of the matrix."""

import pytest

from tests.test_crash_matrix import CREATES, crash_base, every_kill_point_is_settled, releases  # noqa: F401 (fixtures)


@pytest.mark.parametrize("name", CREATES)
def test_every_kill_point_is_settled(name, crash_base, channel, standin, releases, reliability):  # noqa: F811
    every_kill_point_is_settled(name, crash_base, None, channel, standin, releases, reliability)
