"""The user site (`pip install --user`): where it is for a Host, and what it holds.

Its own module, free of typing: create's report names it (pipeline/finish.py) as doctor does.
"""

from mambaboot.common.output import counted


def user_sites(m) -> list:
    """[(site, its entries, what names it)] for each user site that holds anything (`pip install
    --user`): site.py adds it to every Python of that version, ahead of the environment's own
    site-packages, unless PYTHONNOUSERSITE is set (Lib/site.py, 3.9 to 3.13)."""
    base = m.get("PYTHONUSERBASE")
    if not base:
        if m.windows and not m.get("APPDATA"):
            return []
        base = m.path.join(m.get("APPDATA"), "Python") if m.windows else m.path.join(m.home(), ".local")
    where = ("PYTHONUSERBASE" if m.get("PYTHONUSERBASE") else "the user site")
    if m.windows:
        sites = [m.path.join(base, d, "site-packages") for d in m.listdir(base) if d.lower().startswith("python3")]
    else:
        lib = m.path.join(base, "lib")
        sites = [m.path.join(lib, d, "site-packages") for d in m.listdir(lib) if d.startswith("python3.")]
    return [(site, held, where) for site, held in ((s, m.listdir(s)) for s in sites) if held]


def describe(site: str, held: list, where: str) -> str:
    return (f"{site} ({where}) holds {counted(len(held), 'entry', 'entries')} "
            f"({', '.join(held[:3])}{', ...' if len(held) > 3 else ''})")
