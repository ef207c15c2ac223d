"""Hermetic test infrastructure: a local conda channel, a micromamba stand-in, an HTTP server.

    channel.py             build_channel / build_benchmark_channel / PackageSpec / make_package
    micromamba_standin.py  make_standin: an executable micromamba 2.x look-alike (py-rattler inside)
    server.py              AssetServer / Fault / refused_url: loopback release assets with faults
    entries.py             both_entries: run a test through the checkout and through mambaboot.pyz
    selfcheck.py           `python3 tests/support/selfcheck.py` proves each piece works

Nothing here touches the network or the real HOME.
"""
