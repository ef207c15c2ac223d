"""Every kind of state mambaboot writes to remember something across a failure or another run, in one table: what
proves a left one ours or dead, which lock guards it, who collects it. docs/reliability.md's state inventory is derived
from it and checked both ways (tests/test_state_inventory.py: each call of the file layer's writers is a row's, by the
function it is in, or named as remembering nothing; each row is written). Names only: a constant is read where it
lives, so this table imports nothing, above it or below."""

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
# or never (named). Modules as paths below src/mambaboot; a writer is the function that writes it ("module.py:function",
# "module.py:Class.method": each call of the file layer's writers in it is this row's), or a bootstrap script
# (bootstrap/, at the top of the checkout), which writes beside mambaboot and can import none of its names.
_BOOTSTRAP = ("bootstrap/bootstrap.sh", "bootstrap/bootstrap.bat", "bootstrap/bootstrap.ps1")
STATE = (
    (".NAME.mambaboot-lock", ("common/files/fsops.py", "PLACE_LOCK"),
     ("environment/placelock.py:Intent._take", "environment/placelock.py:Intent.stage"), ("free lock",),
     "place", ("environment/placelock.py",), "the place's lock and intent"),
    ("PREFIX/.mambaboot-claim", ("common/files/proof.py", "MARK"),
     ("common/files/proof.py:write_mark", "pipeline/create.py:_Rollback.engine_done", "pipeline/move.py:_move_claimed",
      "pipeline/movecopy.py:copy", "common/files/guarded.py:set_aside._set_aside",
      "common/files/workdir.py:WorkDir.__enter__",
      "environment/adoptundo.py:save"), ("mark",), "place", ("environment/settle.py",), "the mark"),
    ("PREFIX/.mambaboot/record.json", ("environment/record.py", "RECORD_FILE"),
     ("environment/record.py:write", "pipeline/finish.py:_write_lock", "pipeline/provision.py:_Run.pip",
      "shell/activation/generate.py:write"), (), "place", ("environment/delete.py",), "the record"),
    ("PREFIX/.mambaboot/packed.json", ("relocate/scan.py", "PACKED_FILE"), ("pipeline/pack.py:_extras",), (), None,
     ("pipeline/move.py", "relocate/unpack.py"), "the record"),
    (".NAME.mambaboot-tmp-<TOKEN>", ("common/files/tempname.py", "TEMP_TAG"),
     ("common/files/confined.py:_beside", "common/files/filerewrite.py:_staged", "relocate/rewrite.py:_Files.replace",
      "relocate/rewrite.py:_replace_file", "relocate/rewrite.py:_retarget", "engine/download.py:fetch_file",
      "pipeline/provision.py:_keep") + _BOOTSTRAP, ("nothing lost",), "place",
     ("common/files/leftovers.py", "common/files/partials.py"), "the temporary names"),
    (".NAME.mambaboot-tmp-<TOKEN>-locked", ("common/files/tempname.py", "TEMP_TAG", "UNLOCKED"),
     ("common/files/confined.py:Root.open_locked", "shell/activation/envvars.py:_replaced",
      "environment/cacheusers.py:register", "environment/pkgcache.py:SizeMemo.save", "common/files/outputfile.py:staging"),
     ("free lock",), "writer", ("common/files/leftovers.py",), "the temporary names"),
    ("mambaboot-tmp-<TOKEN>-<KIND>", ("common/files/workdir.py", "MARKER", "LOCK"),
     ("common/files/workdir.py:WorkDir.__init__", "common/files/workdir.py:WorkDir.__enter__",
      "engine/sandbox.py:private_home", "pipeline/locking.py:lock_pip", "pipeline/provision.py:_Run._keep_copies",
      "shell/startup.py:prepare", "common/files/outputfile.py:staging"), ("mark", "nothing lost", "free lock"), "writer",
     ("common/files/workdir.py",), "the temporary names"),
    ("CACHE/tmp/mambaboot-tmp-<TOKEN>-bootstrap", ("common/files/workdir.py", "BOOTSTRAP"), _BOOTSTRAP, (), None, (),
     "the temporary names"),
    (".NAME.mambaboot-tmp-<TOKEN>-new", ("common/files/tempname.py", "TEMP_TAG"), ("pipeline/create.py:_Rollback.make_target",),
     ("nothing lost", "held"), "place", ("pipeline/create.py", "environment/settle.py"), "the temporary names"),
    (".NAME.mambaboot-tmp-<TOKEN>-old", ("common/files/tempname.py", "TEMP_TAG"),
     ("pipeline/create.py:_Rollback.move_old_aside", "environment/delete.py:remove", "pipeline/move.py:_rename_or_copy",
      "pipeline/move.py:_move_claimed", "pipeline/movecopy.py:copy", "environment/settle.py:_move_forward",
      "common/files/guarded.py:set_aside._set_aside"), ("mark", "nothing lost"), "place", ("environment/settle.py",),
     "the temporary names"),
    ("PREFIX/.mambaboot/mambaboot-tmp-<TOKEN>-undo", ("environment/adoptundo.py", "SNAPSHOT"),
     ("environment/adoptundo.py:where", "environment/adoptundo.py:save", "environment/adoptundo.py:_save"),
     ("mark",), "place", ("environment/settle.py",), "the temporary names"),
    ("CACHE/environments/<key>.json", ("environment/cacheusers.py", "DIRECTORY"), ("environment/cacheusers.py:register",),
     (), None, ("environment/cacheusers.py",), "the cache-user notes"),
    ("CACHE/micromamba/<key>/micromamba", ("engine/micromamba.py", "STORE"),
     ("engine/download.py:fetch_file", "engine/micromamba.py:_obtain") + _BOOTSTRAP, (), None, (), "a cache"),
    ("CACHE/micromamba/<key>/verified", ("engine/micromamba.py", "VERIFIED"), ("engine/micromamba.py:_digest",), (), None,
     (), "a cache"),
    ("CACHE/micromamba/local/<pathkey>/verified", ("engine/micromamba.py", "LOCAL", "VERIFIED"),
     ("engine/micromamba.py:_local", "engine/micromamba.py:_digest"), (), None, (), "a cache"),
    ("CACHE/micromamba/<key>/sha256", ("engine/micromamba.py", "DIGEST"), ("engine/micromamba.py:_obtain",) + _BOOTSTRAP,
     (), None, (), "a cache"),
    ("CACHE/micromamba/<key>/version", ("engine/micromamba.py", "VERSION_NOTE"), ("engine/micromamba.py:_version",), (),
     None, (), "a cache"),
    ("CACHE/micromamba/versions/<digest>/version", ("engine/micromamba.py", "VERSIONS", "VERSION_NOTE"),
     ("engine/micromamba.py:_local", "engine/micromamba.py:_version"), (), None, (), "a cache"),
    ("CACHE/zipapp/<digest>/mambaboot.pyz", ("common/files/partials.py", "ZIPAPP"), _BOOTSTRAP, (), None, (), "a cache"),
    ("CACHE/memo/package-sizes", ("environment/pkgcache.py", "_MEMO"), ("environment/pkgcache.py:SizeMemo.save",), (),
     None, ("environment/pkgcache.py",), "a cache"),
    ("PKGS/pkgs.lock", ("environment/pkgcache.py", "PKGS_LOCK"), ("environment/pkgcache.py:clean",), (),
     "package cache", (), "a cache"),
    ("CACHE/pip/wheelhouse/<sha256>/<file>", ("pipeline/provision.py", "WHEELHOUSE"), ("pipeline/provision.py:_keep",), (),
     None, ("environment/pkgcache.py",), "a cache"),
)
