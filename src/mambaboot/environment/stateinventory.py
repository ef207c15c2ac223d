"""Every kind of state mambaboot writes to remember something across a failure or another run, in one table: what
proves a left one ours or dead, which lock guards it, who collects it. docs/reliability.md's state inventory is derived
from it and checked both ways (tests/test_state_inventory.py: each kind the source writes is a row, each row is
written). Names only: a constant is read where it lives, so this table imports nothing, above it or below."""

# What proves, at the moment of the act, that what is deleted, renamed or put back is ours, or its writer's gone: each
# function that decides by one carries its name (common/files/proof.py `rule`), and the crash matrix holds every
# deletion and rename of a place to one of them (tests/test_crash_matrix.py).
PROOF_RULES = {
    "mark": "the mark of the intent's token for the place's role, written in the directory it proves and read back "
            "through the descriptor the act uses (with the identity the intent names, where it names one), the mark "
            "deleted last: common/files/proof.py",
    "nothing lost": "what holds nothing of anyone's: a directory rmdir alone takes (empty: made by a run killed before "
                    "its mark, or emptied to its mark), or a regular file under a killed run's token, in or beside a "
                    "place whose lock the collector holds (a new text never renamed over its file): common/files/proof.py, "
                    "common/files/leftovers.py, environment/settle.py",
    "held": "the live run's own: the directory it made and holds open since, emptied through that descriptor: "
            "pipeline/create.py",
    "free lock": "its writer's lock on it can be taken: the writer is gone: common/files/leftovers.py writer_gone",
}
# The locks, each held only while its holder lives.
LOCK_KINDS = {
    "place": "a place's lock beside it, which holds its run's intent: environment/placelock.py",
    "writer": "a writer's lock on its own temporary (the file itself; for a work directory, NAME.lock beside it): "
              "common/files/filelock.py",
    "package cache": "a package cache's pkgs.lock, taken as micromamba takes it: environment/pkgcache.py",
}
# (name, (module, constant, ...), writers, proof rules, lock kind, collectors, kind of state): the name as the
# inventory's first column begins, every constant's value in it; no proof rule: deleted only with what it belongs to,
# or never (named). Modules as paths below src/mambaboot.
_SET_ASIDE = ("pipeline/create.py", "pipeline/move.py", "environment/delete.py", "common/files/guarded.py")
STATE = (
    (".NAME.mambaboot-lock", ("common/files/fsops.py", "PLACE_LOCK"), ("environment/placelock.py",), ("free lock",),
     "place", ("environment/placelock.py",), "the place's lock and intent"),
    ("PREFIX/.mambaboot-claim", ("common/files/proof.py", "MARK"),
     ("common/files/proof.py", "pipeline/create.py", "pipeline/move.py", "pipeline/movecopy.py", "common/files/guarded.py",
      "common/files/workdir.py", "environment/adoptundo.py"), ("mark",), "place", ("environment/settle.py",), "the mark"),
    ("PREFIX/.mambaboot/record.json", ("environment/record.py", "RECORD_FILE"),
     ("environment/record.py", "pipeline/finish.py", "pipeline/provision.py", "shell/activation/generate.py"), (), "place",
     ("environment/delete.py",), "the record"),
    ("PREFIX/.mambaboot/packed.json", ("relocate/scan.py", "PACKED_FILE"), ("pipeline/pack.py",), (), None,
     ("pipeline/move.py", "relocate/unpack.py"), "the record"),
    (".NAME.mambaboot-tmp-<TOKEN>", ("common/files/tempname.py", "TEMP_TAG"),
     ("common/files/confined.py", "common/files/filerewrite.py", "relocate/rewrite.py", "engine/download.py",
      "pipeline/provision.py"), ("nothing lost",), "place",
     ("common/files/leftovers.py", "common/files/partials.py"), "the temporary names"),
    (".NAME.mambaboot-tmp-<TOKEN>-locked", ("common/files/tempname.py", "TEMP_TAG", "UNLOCKED"),
     ("shell/activation/envvars.py", "environment/cacheusers.py", "environment/pkgcache.py", "common/files/outputfile.py"),
     ("free lock",), "writer",
     ("common/files/leftovers.py",), "the temporary names"),
    ("mambaboot-tmp-<TOKEN>-<KIND>", ("common/files/workdir.py", "MARKER", "LOCK"),
     ("common/files/workdir.py", "engine/sandbox.py", "pipeline/locking.py", "pipeline/provision.py", "shell/startup.py",
      "common/files/outputfile.py"), ("mark", "nothing lost", "free lock"), "writer", ("common/files/workdir.py",), "the temporary names"),
    (".NAME.mambaboot-tmp-<TOKEN>-new", ("common/files/tempname.py", "TEMP_TAG"), _SET_ASIDE, ("mark", "nothing lost", "held"),
     "place", ("environment/settle.py",), "the temporary names"),
    ("PREFIX/.mambaboot/mambaboot-tmp-<TOKEN>-undo", ("environment/adoptundo.py", "SNAPSHOT"), ("environment/adoptundo.py",),
     ("mark",), "place", ("environment/settle.py",), "the temporary names"),
    ("CACHE/environments/<key>.json", ("environment/cacheusers.py", "DIRECTORY"), ("environment/cacheusers.py",), (), None,
     ("environment/cacheusers.py",), "the cache-user notes"),
    ("CACHE/micromamba/<key>/verified", ("engine/micromamba.py", "VERIFIED"), ("engine/micromamba.py",), (), None, (),
     "a cache"),
    ("CACHE/micromamba/<key>/sha256", ("engine/micromamba.py", "DIGEST"), ("engine/micromamba.py",), (), None, (), "a cache"),
    ("CACHE/memo/package-sizes", ("environment/pkgcache.py", "_MEMO"), ("environment/pkgcache.py",), (), None,
     ("environment/pkgcache.py",), "a cache"),
    ("PKGS/pkgs.lock", ("environment/pkgcache.py", "PKGS_LOCK"), ("environment/pkgcache.py",), (), "package cache", (),
     "a cache"),
    ("CACHE/pip/wheelhouse/<sha256>/<file>", ("pipeline/provision.py", "WHEELHOUSE"), ("pipeline/provision.py",), (), None,
     ("environment/pkgcache.py",), "a cache"),
)
