"""Builds the Python module `attnpaths` for `pip install .` (see pyproject.toml).

With setuptools and pybind11's setup helpers, one of two ways:

* default: compile the bindings (python/*.cc) together with the C++ libraries
  the module uses (kernels/, solver/, data/, sampler/) from this source tree;
  dependencies through pkg-config (eigen3, hdf5, tomlplusplus, openblas) and
  -lceres, as Debian installs them (scripts/bootstrap.sh lists the packages);
* ATTNPATHS_PREFIX=<prefix> (where `cmake --install` put attnpaths): compile
  only the bindings and link the installed static libraries with the flags of
  <prefix>/lib/pkgconfig/attnpaths.pc, so nothing is compiled twice.

Environment: ATTNPATHS_BUILD_JOBS (parallel compiles; default all cores),
ATTNPATHS_SETUPTOOLS_BUILD_DIR (setuptools' work folder; default
build/setuptools), ATTNPATHS_GIT_COMMIT (the commit recorded when the tree is
not a git checkout). The stubs python/attnpaths.pyi are installed beside the
module.
"""
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys

from pybind11.setup_helpers import ParallelCompile, Pybind11Extension, build_ext
from setuptools import setup

ROOT = os.path.dirname(os.path.abspath(__file__))
BUILD_DIR = os.environ.get("ATTNPATHS_SETUPTOOLS_BUILD_DIR",
                           os.path.join(ROOT, "build", "setuptools"))
os.makedirs(BUILD_DIR, exist_ok=True)


def fail(message):
    sys.exit("error: " + message)


def project_version():
    """The version in CMakeLists.txt's project() line, the one source of it."""
    text = open(os.path.join(ROOT, "CMakeLists.txt")).read()
    m = re.search(r"project\(attnpaths\s+VERSION\s+([0-9][0-9.]*)", text)
    if not m:
        fail("CMakeLists.txt: no 'project(attnpaths VERSION x.y.z' line")
    return m.group(1)


def pkg_config(*args, env=None):
    try:
        out = subprocess.run(["pkg-config", *args], check=True, capture_output=True, text=True,
                             env=env)
    except FileNotFoundError:
        fail("pkg-config not found (Debian: apt-get install pkg-config)")
    except subprocess.CalledProcessError as e:
        fail(f"pkg-config {' '.join(args)}: {e.stderr.strip()} (scripts/bootstrap.sh lists the "
             "Debian packages attnpaths needs)")
    return shlex.split(out.stdout)


def run_text(cmd):
    try:
        return subprocess.run(cmd, check=True, capture_output=True, text=True,
                              cwd=ROOT).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def build_info_source(version):
    """data/provenance.h's BuildInfo for this build (cmake/attnpathsBuildInfo.cmake's twin)."""
    commit = os.environ.get("ATTNPATHS_GIT_COMMIT") or "unknown"
    dirty = False
    if commit == "unknown":
        head = run_text(["git", "rev-parse", "--verify", "HEAD"])
        if head and re.fullmatch(r"[0-9a-f]+", head):
            commit = head
            dirty = bool(run_text(["git", "status", "--porcelain", "--untracked-files=no"]))
    compiler = run_text([os.environ.get("CXX", "c++").split()[-1], "-dumpfullversion"])
    values = {
        "VERSION": version,
        "commit": commit,
        "dirty": "true" if dirty else "false",
        "COMPILER": f"GNU {compiler}" if compiler else "unknown",
        "BUILD_TYPE": "Release (pip)",
        "FLAGS": "-O2 -DNDEBUG",
        "LIBRARIES": "Eigen {}, Ceres, HDF5 {}, toml++ {}, BLAS/LAPACK OpenBLAS".format(
            *(pkg_config("--modversion", p)[0] for p in ("eigen3", "hdf5", "tomlplusplus"))),
    }
    text = open(os.path.join(ROOT, "cmake", "build_info.cc.in")).read()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value.replace("\\", "\\\\").replace('"', '\\"'))
    path = os.path.join(BUILD_DIR, "build_info.cc")
    if not os.path.exists(path) or open(path).read() != text:
        with open(path, "w") as f:
            f.write(text)
    return path


def library_modules():
    """The library folders the module links, read from the CMake files: the
    attnpaths_* targets python/CMakeLists.txt links and, transitively, theirs."""
    def linked(cmake_file, target):
        text = open(cmake_file).read()
        found = set()
        for m in re.finditer(r"target_link_libraries\(\s*%s\b(.*?)\)" % target, text, re.S):
            found |= set(re.findall(r"\battnpaths_(\w+)", m.group(1)))
        return found
    todo = linked(os.path.join(ROOT, "python", "CMakeLists.txt"), "attnpaths_python")
    modules = set()
    while todo:
        module = todo.pop()
        if module in modules:
            continue
        cmake_file = os.path.join(ROOT, module, "CMakeLists.txt")
        if not os.path.exists(cmake_file):
            fail(f"python/CMakeLists.txt links attnpaths_{module}, but {module}/ has no CMakeLists.txt")
        modules.add(module)
        todo |= linked(cmake_file, "attnpaths_" + module) - modules
    return sorted(modules)


def split_flags(flags):
    """pkg-config flags as setuptools arguments."""
    out = {"include_dirs": [], "library_dirs": [], "libraries": [], "extra_compile_args": [],
           "extra_link_args": [], "define_macros": []}
    for f in flags:
        if f.startswith("-I"):
            out["include_dirs"].append(f[2:])
        elif f.startswith("-L"):
            out["library_dirs"].append(f[2:])
        elif f.startswith("-l"):
            out["libraries"].append(f[2:])
        elif f.startswith("-D"):
            name, _, value = f[2:].partition("=")
            out["define_macros"].append((name, value or None))
        elif f.endswith((".so", ".a")) or f == "-pthread":
            out["extra_link_args"].append(f)
        else:
            out["extra_compile_args"].append(f)
    return out


def extension():
    version = project_version()
    sources = sorted(glob.glob(os.path.join(ROOT, "python", "*.cc")))
    prefix = os.environ.get("ATTNPATHS_PREFIX")
    if prefix:
        env = dict(os.environ)
        env["PKG_CONFIG_PATH"] = os.pathsep.join(
            [os.path.join(prefix, d, "pkgconfig") for d in ("lib", "lib64")]
            + [env.get("PKG_CONFIG_PATH", "")])
        flags = split_flags(pkg_config("--cflags", "--libs", "attnpaths", env=env))
        installed = pkg_config("--modversion", "attnpaths", env=env)[0]
        if installed != version:
            fail(f"ATTNPATHS_PREFIX={prefix} holds attnpaths {installed}, this tree is {version}")
        # python/bindings.h from this tree (through a folder holding only python/), every
        # library header from the prefix, so that they match the installed libraries.
        bindings_root = os.path.join(BUILD_DIR, "bindings-include")
        os.makedirs(bindings_root, exist_ok=True)
        link = os.path.join(bindings_root, "python")
        if not os.path.islink(link):
            os.symlink(os.path.join(ROOT, "python"), link)
        include_dirs = [bindings_root] + flags["include_dirs"]
    else:
        for module in library_modules():
            sources += sorted(glob.glob(os.path.join(ROOT, module, "*.cc")))
        sources.append(build_info_source(version))
        flags = split_flags(pkg_config("--cflags", "--libs", "eigen3", "hdf5", "tomlplusplus",
                                       "openblas"))
        flags["libraries"] = ["ceres"] + flags["libraries"]
        include_dirs = [ROOT] + flags["include_dirs"]
    return Pybind11Extension(
        "attnpaths",
        sources,
        include_dirs=include_dirs,
        library_dirs=flags["library_dirs"],
        libraries=flags["libraries"],
        define_macros=[("NDEBUG", None)] + flags["define_macros"],
        extra_compile_args=["-O2"] + flags["extra_compile_args"],
        extra_link_args=flags["extra_link_args"],
        cxx_std=20,
    )


class BuildExtWithStubs(build_ext):
    """build_ext that also puts the type stubs beside the module."""

    def run(self):
        super().run()
        stub = os.path.join(ROOT, "python", "attnpaths.pyi")
        if os.path.exists(stub) and not self.inplace:
            shutil.copy(stub, os.path.join(self.build_lib, "attnpaths.pyi"))


ParallelCompile("ATTNPATHS_BUILD_JOBS", default=0).install()

setup(
    version=project_version(),
    ext_modules=[extension()],
    cmdclass={"build_ext": BuildExtWithStubs},
    zip_safe=False,
    options={
        "build": {"build_base": BUILD_DIR},
        "egg_info": {"egg_base": BUILD_DIR},
    },
)
