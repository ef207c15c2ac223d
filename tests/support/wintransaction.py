"""libmamba 2.8.1's transaction into an existing Windows environment, as the engine stand-in runs
`micromamba install` (tests/support/winengine.py; a module of its zip, standard library only, on
the embeddable CPython under Wine). The environment's own mamba is the same libmamba: only the
name `wrap_call` falls back on (its executable's stem) and the root prefix differ.

* Every package the transaction replaces is unlinked before any is linked (Transaction::execute,
  libmamba/src/core/transaction.cpp: the removals at 708, the links at 749): UnlinkPackage deletes
  the files its record lists, then the record.
* LinkPackage (libmamba/src/core/link.cpp): the files, a text file's prefix placeholder replaced,
  a noarch: python package's site-packages/ into Lib\\site-packages\\ and python-scripts/ into
  Scripts\\ (get_python_noarch_target_path); each of its site-packages .py files is handed to one
  compilation process, started through the wrapper at the first such package
  (TransactionContext::try_pyc_compilation and start_pyc_compilation_process,
  transaction_context.cpp 237-271 and 344-429, libmamba/data/compile_pyc.py), and the .pyc that
  will be written is recorded at once (link.cpp 1358-1366); then Scripts\\.NAME-post-link.bat runs
  through the wrapper, its exit status ignored (run_script, link.cpp 541-689: only a failure to
  start it counts); then conda-meta\\NAME-VERSION-BUILD.json, each file with sha256_in_prefix.
* The wrapper (wrap_call, libmamba/src/core/util.cpp 1445-1494): CONDA_BAT, else
  ROOT\\condabin\\<its own name> with no extension (1464-1465); a file that is not there makes it write
  ROOT's cmd scripts anew first (init_root_prefix_cmdexe, 1466-1470: WRAP_CALL_WRITES); then
  `CALL "<that>" activate <prefix>`, the prefix as std::quoted writes it (every backslash doubled),
  `IF %ERRORLEVEL% NEQ 0 EXIT /b %ERRORLEVEL%` (1492-1493), and the command; run as
  `%COMSPEC% /D /C <wrapper>` (prepare_wrapped_call, 1558-1586).
* At the end the compilation's stdin is closed and it is waited for; a failed one is only logged
  (wait_for_pyc_compilation, transaction_context.cpp 274-316).

Left out: pre-unlink scripts, entry points, shortcuts, and the wrapper's `chcp` lines.
"""

import hashlib
import json
import os
import subprocess
import tempfile

# What init_root_prefix_cmdexe (libmamba/src/core/shell_init.cpp 799-888, 2.8.1) writes into the root
# prefix, from libmamba/data/mamba.bat, activate.bat and mamba_hook.bat, the markers filled in as it
# fills them: MAMBA_EXE the running mamba, MAMBA_ROOT_PREFIX the root prefix, absolute; {name} the
# running executable's stem (mamba PR #3546: condabin\<name>.bat; the hook is always mamba_hook.bat).
WRAP_CALL_WRITES = {
    "condabin/{name}.bat": ('@SET "MAMBA_EXE={exe}"\n@SET "MAMBA_ROOT_PREFIX={root}"\n\n'
                            '@IF [%1]==[activate]   "%~dp0_{name}_activate" %*\n'
                            '@IF [%1]==[deactivate] "%~dp0_{name}_activate" %*\n\n'
                            '@CALL "%MAMBA_EXE%" %*\n\n@IF %errorlevel% NEQ 0 EXIT /B %errorlevel%\n'),
    "condabin/activate.bat": ('@SET "MAMBA_EXE={exe}"\n@SET "MAMBA_ROOT_PREFIX={root}"\n'
                              '@CALL "%~dp0..\\condabin\\mamba_hook.bat"\n{name} activate %*\n'),
    "Scripts/activate.bat": ('@SET "MAMBA_EXE={exe}"\n@SET "MAMBA_ROOT_PREFIX={root}"\n'
                             '@CALL "%~dp0..\\condabin\\mamba_hook.bat"\n{name} activate %*\n'),
    "condabin/mamba_hook.bat": ('@IF DEFINED CONDA_SHLVL GOTO :EOF\n\n@FOR %%F in ("%~dp0") do @SET "__mambabin_dir=%%~dpF"\n'
                                '@SET "__mambabin_dir=%__mambabin_dir:~0,-1%"\n@SET "PATH=%__mambabin_dir%;%PATH%"\n'
                                '@SET "MAMBA_BAT=%__mambabin_dir%\\{name}.bat"\n@SET "MAMBA_EXE={exe}"\n'
                                '@DOSKEY {name}="%MAMBA_BAT%" $*\n\n@SET CONDA_SHLVL=0\n'),
}

# libmamba/data/compile_pyc.py, one file at a time (its ProcessPoolExecutor is no part of what is tested)
COMPILE_PYC = """import sys
from compileall import compile_file

ok = True
with sys.stdin:
    for line in sys.stdin:
        name = line.strip()
        if not name:
            break
        ok = compile_file(name, quiet=1) and ok
sys.exit(int(not ok))
"""


def init_root_prefix_cmdexe(root, exe):
    name = os.path.splitext(os.path.basename(exe))[0]
    for rel, text in WRAP_CALL_WRITES.items():
        path = os.path.join(root, *rel.format(name=name).split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as out:
            out.write(text.format(name=name, exe=exe, root=root).replace("\n", "\r\n").encode())


def std_quoted(text):
    """std::quoted(text): in double quotes, each backslash and double quote escaped by a backslash."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrap_call(root, prefix, command, exe):
    """The wrapper file for command (a line of cmd text); its path."""
    conda_bat = os.environ.get("CONDA_BAT") or os.path.join(os.path.abspath(root), "condabin",
                                                             os.path.splitext(os.path.basename(exe))[0])
    if not os.path.exists(conda_bat):
        init_root_prefix_cmdexe(root, exe)
    fd, path = tempfile.mkstemp(prefix="mamba_bat_", suffix=".bat")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("@ECHO OFF\n@SET PYTHONIOENCODING=utf-8\n@SET PYTHONUTF8=1\n"
                  f'@CALL "{conda_bat}" activate {std_quoted(str(prefix))}\n'
                  "@IF %ERRORLEVEL% NEQ 0 EXIT /b %ERRORLEVEL%\n"
                  f"\n{command}\n")
    return path


def _comspec():
    return os.environ.get("COMSPEC") or "cmd.exe"


class Transaction:
    """One transaction into prefix, root its root prefix; exe: the running engine."""

    def __init__(self, prefix, root, exe, python_version):
        self.prefix, self.root, self.exe = str(prefix), str(root), exe
        self.tag = "cpython-" + "".join(python_version.split(".")[:2])
        self.compiler = None
        self.wrappers = []

    def unlink(self, meta):
        """UnlinkPackage: the files conda-meta's record lists, then the record."""
        with open(meta, encoding="utf-8") as f:
            files = json.load(f).get("files") or []
        for rel in files:
            try:
                os.unlink(os.path.join(self.prefix, *rel.split("/")))
            except FileNotFoundError:
                pass
        os.unlink(meta)

    def link(self, doc, folder, paths):
        """LinkPackage of the package extracted in folder (its repodata doc, its paths.json entries):
        the files, the .pyc compilation, the post-link script, the record."""
        noarch_python = (doc.get("noarch") or "") == "python"
        linked, to_compile = [], []
        for entry in paths:
            rel = entry["_path"]
            if noarch_python and rel.startswith("site-packages/"):
                rel = "Lib/" + rel
            elif noarch_python and rel.startswith("python-scripts/"):
                rel = "Scripts/" + rel[len("python-scripts/"):]
            data = open(os.path.join(folder, *entry["_path"].split("/")), "rb").read()
            placeholder = entry.get("prefix_placeholder")
            if placeholder and entry.get("file_mode", "text") == "text":
                data = data.replace(placeholder.encode(), self.prefix.encode())
            dest = os.path.join(self.prefix, *rel.split("/"))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "wb") as out:
                out.write(data)
            linked.append({"_path": rel, "path_type": entry.get("path_type", "hardlink"),
                           "sha256_in_prefix": hashlib.sha256(data).hexdigest()})
            if noarch_python and entry["_path"].startswith("site-packages/") and rel.endswith(".py"):
                to_compile.append(rel)
        if to_compile:
            self._compile(to_compile)
            for rel in to_compile:
                head, name = rel.rsplit("/", 1)
                linked.append({"_path": f"{head}/__pycache__/{name[:-3]}.{self.tag}.pyc", "path_type": "pyc_file"})
        self._post_link(doc)
        record = dict(doc, files=[e["_path"] for e in linked], paths_data={"paths": linked, "paths_version": 1},
                      extracted_package_dir=str(folder), requested_spec="")
        meta = os.path.join(self.prefix, "conda-meta", f"{doc['name']}-{doc['version']}-{doc['build']}.json")
        with open(meta, "w", encoding="utf-8") as out:
            json.dump(record, out, indent=4, sort_keys=True)

    def _compile(self, rels):
        if self.compiler is None:
            script = os.path.join(tempfile.mkdtemp(prefix="mamba_pyc_"), "compile_pyc.py")
            with open(script, "w", encoding="utf-8") as out:
                out.write(COMPILE_PYC)
            python = os.path.join(self.prefix, "python.exe")
            wrapper = wrap_call(self.root, self.prefix, f'"{python}" -Wi -u "{script}"', self.exe)
            self.wrappers.append(wrapper)
            self.compiler = subprocess.Popen([_comspec(), "/D", "/C", wrapper], cwd=self.prefix, stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            self.compiler.stdin.write("".join(rel.replace("/", "\\") + "\n" for rel in rels).encode())
            self.compiler.stdin.flush()
        except OSError:  # the wrapper ended already (its CALL failed): libmamba logs it at info level
            pass

    def _post_link(self, doc):
        script = os.path.join(self.prefix, "Scripts", f".{doc['name']}-post-link.bat")
        if not os.path.exists(script):
            return
        wrapper = wrap_call(self.root, self.prefix, f'@CALL "{script}"', self.exe)
        self.wrappers.append(wrapper)
        env = dict(os.environ, ROOT_PREFIX=self.root, PREFIX=self.prefix, PKG_NAME=doc["name"],
                   PKG_VERSION=doc["version"], PKG_BUILDNUM=str(doc.get("build_number", 0)),
                   PATH=os.path.dirname(script) + ";" + os.environ.get("PATH", ""))
        subprocess.run([_comspec(), "/d", "/c", wrapper], env=env, cwd=os.path.dirname(script))  # status ignored

    def finish(self):
        """wait_for_pyc_compilation: stdin closed, the process waited for, its status only logged."""
        if self.compiler is not None:
            try:
                self.compiler.stdin.close()
            except OSError:
                pass
            self.compiler.stdout.read()
            self.compiler.wait()  # its status: LOG_INFO, which micromamba shows with -vv only
        for wrapper in self.wrappers:
            try:
                os.unlink(wrapper)
            except OSError:
                pass
