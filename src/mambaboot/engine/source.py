"""Where the micromamba binary comes from: a path, the official releases, or a mirror."""

from __future__ import annotations  # annotations stay text: no typing at start-up

from mambaboot.common.files import fsops
from mambaboot.common.values import value


@value
class MicromambaSource:
    """Where the engine comes from. kind: 'local' (a path), 'release' (official), 'mirror' (a URL)."""

    kind: str
    subdir: str
    path: str | None = None
    url: str | None = None
    version: str | None = None
    expected_sha256: str | None = None
    allow_http: bool = False  # every redirect hop is held to the rule the first URL met

    @property
    def sha256_url(self) -> str | None:
        return None if self.url is None else self.url + ".sha256"

    def cache_key(self, digest: str | None) -> str:
        """A directory name that can only ever hold one binary.

        A pinned release is immutable, so its version names it. 'latest' and mirrors can
        change under the same URL, so their key includes the digest they published.
        """
        if self.kind == "release" and self.version != "latest":
            return f"{self.version}-{self.subdir}"
        assert digest, "a moving source is keyed by its digest"
        url_hash = fsops.sha256_hex((self.url or "").encode())[:12]
        return f"{self.kind}-{url_hash}-{digest[:16]}"
