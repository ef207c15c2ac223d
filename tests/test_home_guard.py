"""The suite's real-home guard (conftest.real_home_untouched): it names what changed, says that
another process may have changed it, leaves the user's own shell history out, and still fails when
a file is written there."""

from tests.conftest import _home_tree, home_changes, home_verdict


def test_the_guard_names_a_write_and_leaves_the_users_shell_history_out(tmp_path):
    home = tmp_path / "home"
    (home / ".local" / "share" / "fish").mkdir(parents=True)
    (home / ".bashrc").write_text("export A=1\n")
    before = _home_tree(home, [])
    (home / ".bash_history").write_text("ls\n")  # the user's own shell, meanwhile
    (home / ".local" / "share" / "fish" / "fish_history").write_text("- cmd: ls\n")
    assert home_changes(before, _home_tree(home, [])) == []
    (home / ".condarc").write_text("channels: [x]\n")  # what a test must never do
    changed = home_changes(before, _home_tree(home, []))
    assert changed == [f"{home / '.condarc'}: made"]
    verdict = home_verdict(changed)
    assert verdict.startswith("the real home changed while the suite ran (1 entry; no test may write there): "
                              "a test did, or another process of yours did meanwhile")
    assert f"{home / '.condarc'}: made" in verdict
