"""Running a test through both ways mambaboot ships: the checkout's code and mambaboot.pyz.

    @both_entries
    def test_something(world): ...   # world.run/create use each entry in turn

The zipapp half runs in every suite run, so the single-file build is tested by the same
end-to-end scenarios as the package (MAMBABOOT_TEST_VIA=zipapp runs every test through it).
"""

import pytest

both_entries = pytest.mark.parametrize("entry", ["checkout", "zipapp"], indirect=True)
