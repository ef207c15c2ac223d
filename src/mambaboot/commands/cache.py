"""`mambaboot cache info|clean`: what the cache holds; remove what nothing uses.

`cache info|clean` with its options spelled out is read from OPTIONS without argparse
(commands/options.py), which costs it about as much as starting Python: nothing argparse-level
at the top here.
"""

from mambaboot.commands._common import CACHE_DIR, add_command
from mambaboot.commands.options import flag, positional, table

OPTIONS = table(
    positional("action", None, "info, or clean", choices=("info", "clean")),
    CACHE_DIR,
    flag("--dry-run", help="clean: only say what would be removed"),
    flag("--json", help="print one JSON object on stdout"),
)


def register(subparsers) -> None:
    add_command(
        subparsers, "cache", help="show or clean the package cache",
        description="info: sizes of the package cache(s), cached micromamba binaries, pip's cache, and what "
        "killed runs left. clean: remove extracted packages and archives no environment uses (a package an "
        "environment made with this cache installed, or whose files another hard link shares, is kept, and "
        "named), pip's cache, and the private homes and work directories of runs that are gone (one that does not "
        "prove itself mambaboot's is named, with the command that deletes it, and left). micromamba binaries are kept, "
        "and so is a download left under a temporary name (a killed run's, or a bootstrap script's writing it now): "
        "named, with the command that deletes it.",
        example="mambaboot cache clean --dry-run",
        options=OPTIONS, run=run, codes=(4,),
        meanings={4: "a lock file in the cache is a link (never opened through one)"},
    )


def _print_info(data: dict) -> None:
    from mambaboot.environment.diskusage import human

    print(f"cache dir: {data['cache_dir']}")
    for c in data["package_caches"]:
        print(f"  package cache {c['path']}: {human(c['bytes'])}; {c['packages']} packages "
              f"({c['in_use']} in use by environments), {c['archives']} archives")
    mm = data["micromamba"]
    # the count and the directory's size (its lock and digest files too): "0, 129 B" said neither
    count = f"{mm['binaries']} binar{'y' if mm['binaries'] == 1 else 'ies'}"
    print(f"  micromamba binaries {mm['path']}: {count}, {human(mm['bytes'])} in the directory")
    print(f"  pip cache {data['pip']['path']}: {human(data['pip']['bytes'])}")
    print(f"  left by killed runs: {data['stale_homes']['count']} private homes "
          f"({human(data['stale_homes']['bytes'])})")
    unproven = data["unproven_homes"]
    if unproven["count"]:
        print(f"  work directories proving nothing (a killed run's, a bootstrap script's killed or running): "
              f"{unproven['count']} ({human(unproven['bytes'])}; `mambaboot cache clean` names each, with the "
              "command that deletes it)")
    partial = data["partial_downloads"]
    if partial["count"]:
        print(f"  downloads under a temporary name, of a killed run or one running now: {partial['count']} "
              f"({human(partial['bytes'])}; `mambaboot cache clean` names each, with the command that deletes it)")


def _print_clean(data: dict) -> None:
    from mambaboot.common import output
    from mambaboot.common.output import counted
    from mambaboot.environment.diskusage import human

    verb = "would remove" if data["dry_run"] else "removed"
    print(f"{verb} {counted(len(data['removed_packages']), 'unused package')} ({human(data['package_bytes'])}), "
          f"pip cache ({human(data['pip_cache_bytes'])}), {counted(len(data['stale_homes']), 'stale private home')}")
    for left in data["unproven_homes"] + data["partial_downloads"]:
        output.say(f"{left['why']}; {left['clear']}")
    for said in data["killed_writers"]:
        output.say(said)
    if data["kept_in_use"]:
        print(f"kept {len(data['kept_in_use'])} packages that environments still use (installed, or sharing "
              "files by hard links): " + ", ".join(data["kept_in_use"]))


def run(args) -> int:
    return start(args.action, args.cache_dir, args.dry_run, args.json)


def start(action: str, cache_dir_option, dry_run: bool, as_json: bool) -> int:
    from mambaboot.common import host
    from mambaboot.environment import pkgcache
    from mambaboot.common.locations import resolve_cache_dir, resolve_pkgs_dirs

    h = host.current()
    cache_dir = resolve_cache_dir(h, cache_dir_option)
    pkgs_dirs = resolve_pkgs_dirs(h, cache_dir)
    if action == "info":
        data = pkgcache.info(cache_dir, pkgs_dirs)
        show = _print_info
    else:
        data = pkgcache.clean(cache_dir, pkgs_dirs, dry_run=dry_run)
        show = _print_clean
    if as_json:
        from mambaboot.common import output

        output.emit_json(data)
    else:
        show(data)
    return 0
