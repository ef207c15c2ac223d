"""Hermetic test infrastructure: a local conda channel, a micromamba stand-in, an HTTP server.

    channel.py             build_channel / build_benchmark_channel / PackageSpec / make_package
    micromamba_standin.py  make_standin: an executable micromamba 2.x look-alike (py-rattler inside)
    server.py              AssetServer / Fault / refused_url: loopback release assets with faults
    entries.py             both_entries: run a test through the checkout and through mambaboot.pyz
    targets.py             occupy: the targets create and the bootstrap scripts must refuse
    wine.py                Wine's cmd for bootstrap.bat (session prefix, run_bat, stand-in log)
    winstandin.c           the Windows stand-ins: micromamba.exe, python.exe, curl.exe, certutil.exe
    selfcheck.py           `python3 tests/support/selfcheck.py` proves each piece works

Nothing here touches the network or the real HOME.
"""
