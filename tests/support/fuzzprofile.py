"""The property tests' two hypothesis profiles, chosen by MAMBABOOT_FUZZ_PROFILE:

- "ci" (the default): each test's fixed examples plus the few drawn ones its own count says,
  derandomized (the same every run) and with no database, so the suite is fast and repeatable;
- "deep": a deliberate run that explores. Hundreds of drawn examples per test (tens for a slow
  one; a test's own count variable still wins when set), a seed that changes every run, and a saved database
  (MAMBABOOT_FUZZ_DB, default .hypothesis/deep in the checkout, which git ignores) so that a
  failure found once is tried first on every later run.

Every seeded test prints its seed when it fails; MAMBABOOT_FUZZ_SEED=N replays it (drawn
examples are then those of that seed, in either profile)."""

import functools
import os
import random
import sys
from pathlib import Path

import hypothesis
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

PROFILE = os.environ.get("MAMBABOOT_FUZZ_PROFILE", "ci")
if PROFILE not in ("ci", "deep"):
    raise SystemExit(f"MAMBABOOT_FUZZ_PROFILE={PROFILE!r}: it is ci or deep")
DEEP = PROFILE == "deep"
DEEP_EXAMPLES = 300
_DB = Path(os.environ.get("MAMBABOOT_FUZZ_DB") or Path(__file__).resolve().parents[2] / ".hypothesis" / "deep")
_GIVEN_SEED = os.environ.get("MAMBABOOT_FUZZ_SEED")
SEED = int(_GIVEN_SEED) if _GIVEN_SEED else random.SystemRandom().randrange(1 << 32)

settings.register_profile("ci", deadline=None, derandomize=not _GIVEN_SEED, database=None,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("deep", deadline=None, derandomize=False,
                          database=DirectoryBasedExampleDatabase(str(_DB)),
                          suppress_health_check=list(HealthCheck))
PARENT = settings.get_profile(PROFILE)


def examples(variable: str, ci: int, slow: bool = False) -> int:
    """The number of drawn examples: VARIABLE when set, else CI's count or the deep profile's
    (a tenth of it for a slow test: one whose every example runs a whole create)."""
    given_count = os.environ.get(variable)
    if given_count:
        return int(given_count)
    return (DEEP_EXAMPLES // 10 if slow else DEEP_EXAMPLES) if DEEP else ci


def chosen(**overrides) -> settings:
    """The profile's settings with a test's own (max_examples, phases, ...)."""
    return settings(PARENT, **overrides)


def seeded(test):
    """TEST (a @given test with chosen() settings) under the run's seed, printed when it fails. In
    the ci profile without MAMBABOOT_FUZZ_SEED the examples stay derandomized; with it they are
    that seed's."""
    if DEEP or _GIVEN_SEED:
        test = hypothesis.seed(SEED)(test)

    @functools.wraps(test)
    def run(*args, **kwargs):
        try:
            return test(*args, **kwargs)
        except BaseException:
            how = f"MAMBABOOT_FUZZ_SEED={SEED}" if (DEEP or _GIVEN_SEED) else "the ci profile (derandomized)"
            sys.stderr.write(f"\nreplay with MAMBABOOT_FUZZ_PROFILE={PROFILE} {how}\n")
            raise
    return run
