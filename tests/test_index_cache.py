"""The engine's index cache lives in our package cache and outlives the run (issue 16, goal 4).

micromamba keeps a channel's repodata in ``<first writable pkgs dir>/cache/`` (2.8.1
libmamba/src/core/subdir_index.cpp ``SubdirIndexLoader::writable_cache_dir``; shards in
``cache/shards``, cache_paths.hpp); we hand it CONDA_PKGS_DIRS inside our cache, so the
index persists there while the private HOME is deleted. The stand-in reproduces the cache
and its revalidation, and the loopback channel server counts the index requests.
"""

from pathlib import Path
from urllib.parse import urlsplit

from tests.support.server import AssetServer
from tests.support.snapshot import diff


def _serve_channel(server: AssetServer, channel: str) -> str:
    root = Path(urlsplit(channel).path)
    for f in root.rglob("*"):
        if f.is_file():
            server.add("/ch/" + f.relative_to(root).as_posix(), f.read_bytes())
    return server.url + "/ch"


def _index_gets(server: AssetServer) -> list:
    return [r for r in server.requests if r[0] == "GET" and r[1].endswith("/repodata.json")]


def test_a_second_create_fetches_no_index_it_has(world, channel, standin):
    with AssetServer() as server:
        url = _serve_channel(server, channel)
        before = world.outside()
        first = world.create("one", "-q", "-c", url, "--micromamba", str(standin))
        assert first.returncode == 0, first.stderr
        fetched = _index_gets(server)
        assert fetched, "the first create must fetch the index"
        index = sorted(p.name for p in (world.cache / "Python" / "pkgs" / "cache").glob("*.json"))
        assert any(n.endswith(".state.json") for n in index) and len(index) >= 2, index

        second = world.create("two", "-q", "-c", url, "--micromamba", str(standin))
        assert second.returncode == 0, second.stderr
        assert _index_gets(server) == fetched  # fresh (max-age 3600 s): not asked again
        assert diff(before, world.outside(world.envs / "one", world.envs / "two")) == {}


def test_an_expired_index_is_revalidated_not_refetched(world, channel, standin):
    with AssetServer() as server:
        server.cache_control = "max-age=0"  # always stale: the next run must ask, conditionally
        url = _serve_channel(server, channel)
        assert world.create("one", "-q", "-c", url, "--micromamba", str(standin)).returncode == 0
        first = len(_index_gets(server))
        sizes = {p: p.stat().st_size for p in (world.cache / "Python" / "pkgs" / "cache").glob("*.json")}

        r = world.create("two", "-q", "-c", url, "--micromamba", str(standin))
        assert r.returncode == 0, r.stderr
        assert len(_index_gets(server)) == 2 * first  # asked again ...
        assert server.not_modified == first  # ... and every answer was 304: no body sent twice
        assert {p: p.stat().st_size for p in sizes} == sizes
