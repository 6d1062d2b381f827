#!/usr/bin/env python3
"""Type stubs (attnpaths.pyi) for the pybind11 module, from its own signatures.

    /usr/bin/python3 python/make_stubs.py build/python > python/attnpaths.pyi
    /usr/bin/python3 python/make_stubs.py build/python --check python/attnpaths.pyi

pybind11 writes every function's signature as the first line of its
docstring ("solve(action: attnpaths.Action, ...) -> tuple"); this script
turns those into a stub: NumPy arrays become numpy.typing.NDArray, defaults
become "...", docstrings are kept. --check compares the names and signatures
(not the docstrings) of a stub file with the module's and exits 1 with a diff
when they differ (tests/python/CMakeLists.txt runs it as python.stubs).
"""
import argparse
import ast
import difflib
import importlib
import re
import sys

TYPING = ["Any", "Callable", "Dict", "Iterator", "List", "Optional", "Sequence", "Tuple", "Union"]


def translate(t):
    """A pybind11 type text as a stub annotation."""
    t = re.sub(r"numpy\.ndarray\[numpy\.(\w+)(\[[^\]]*\])?\]", r"NDArray[numpy.\1]", t)
    t = re.sub(r"\bnumpy\.ndarray\b(?!\[)", "NDArray[Any]", t)
    t = re.sub(r"\battnpaths\.", "", t)
    return t.strip()


def split_top(text, sep=","):
    """Splits on `sep` outside brackets and quotes."""
    parts, depth, quote, cur = [], 0, None, ""
    for c in text:
        if quote:
            cur += c
            if c == quote:
                quote = None
            continue
        if c in "'\"":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += c
    if cur.strip():
        parts.append(cur)
    return [p.strip() for p in parts]


def parse_signature(line, name):
    """'name(a: int, b: X = 1) -> R' → (params, returns) or None."""
    if not line.startswith(name + "("):
        return None
    depth, end = 0, None
    for i in range(len(name), len(line)):
        if line[i] == "(":
            depth += 1
        elif line[i] == ")":
            depth -= 1
            if depth == 0:
                end = i
                break
    if end is None:
        return None
    params = []
    for p in split_top(line[len(name) + 1:end]):
        if p == "*":  # keyword-only parameters follow (py::kw_only)
            params.append(p)
            continue
        if p.startswith("*"):
            params.append(p if ":" in p else p + ": Any")
            continue
        head, has_default, _ = p.partition("=")
        pname, _, ptype = head.partition(":")
        pname = pname.strip()
        text = pname if pname == "self" or not ptype else f"{pname}: {translate(ptype)}"
        params.append(text + (" = ..." if has_default else ""))
    rest = line[end + 1:].strip()
    returns = translate(rest[2:]) if rest.startswith("->") else "None"
    return params, returns


def signatures(obj, name):
    """[(params, returns, doc)] of a pybind11 function (several when overloaded)."""
    doc = obj.__doc__ or ""
    lines = doc.splitlines()
    if len(lines) > 1 and lines[1].strip() == "Overloaded function.":
        out, blocks = [], re.split(r"^\d+\. ", "\n".join(lines[2:]), flags=re.M)
        for block in blocks:
            block_lines = block.strip().splitlines()
            if not block_lines:
                continue
            sig = parse_signature(block_lines[0], name)
            if sig:
                out.append((*sig, "\n".join(block_lines[1:]).strip()))
        return out
    sig = parse_signature(lines[0], name) if lines else None
    if not sig:
        return [(["*args: Any", "**kwargs: Any"], "Any", doc.strip())]
    return [(*sig, "\n".join(lines[1:]).strip())]


def docstring(text, indent):
    if not text:
        return ""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    pad = " " * indent
    body = "\n".join((pad + l) if l.strip() else "" for l in text.splitlines())
    return f'\n{pad}"""\n{body}\n{pad}"""\n'


def function_stub(obj, name, indent=0, method=False, static=False):
    # An alias (attnpaths.align is align_kernel) keeps its function's own signature.
    sigs = signatures(obj, getattr(obj, "__name__", name))
    pad = " " * indent
    out = []
    for params, returns, doc in sigs:
        if method and not static and (not params or not params[0].startswith("self")):
            params = ["self"] + params
        if method and not static and params and params[0].startswith("self"):
            params[0] = "self"
        decorators = ""
        if static:
            decorators += f"{pad}@staticmethod\n"
        if len(sigs) > 1:
            decorators += f"{pad}@overload\n"
        body = docstring(doc, indent + 4)
        head = f"{pad}def {name}({', '.join(params)}) -> {returns}:"
        out.append(decorators + (head + body if body else head + " ...\n"))
    return "".join(out)


def property_stub(prop, name, indent):
    pad = " " * indent
    doc = (prop.fget.__doc__ or "") if prop.fget else ""
    first = doc.splitlines()[0] if doc else ""
    m = re.match(r"^\((?:arg0|self): [^)]*\) -> (.+)$", first)
    kind = translate(m.group(1)) if m else "Any"
    text = (prop.__doc__ or "").strip()
    if text.startswith("("):  # pybind11's own signature line, no user docstring
        text = "\n".join(text.splitlines()[1:]).strip()
    if prop.fset is None:
        head = f"{pad}@property\n{pad}def {name}(self) -> {kind}:"
        body = docstring(text, indent + 4)
        return head + body if body else head + " ...\n"
    line = f"{pad}{name}: {kind}\n"
    if text:
        line += docstring(text, indent)
    return line


def class_stub(cls):
    base = ", ".join(b.__name__ for b in cls.__bases__ if b.__name__ not in ("pybind11_object", "object"))
    out = f"class {cls.__name__}{'(' + base + ')' if base else ''}:\n"
    doc = (cls.__doc__ or "").strip()
    members = []
    if doc and issubclass(cls, BaseException) is False:
        members.append(docstring(doc, 4).lstrip("\n"))
    elif doc:
        members.append(docstring(doc, 4).lstrip("\n"))
    for name, value in cls.__dict__.items():
        if name in ("__doc__", "__module__", "__dict__", "__weakref__", "_pybind11_conduit_v1_"):
            continue
        kind = type(value).__name__
        if kind == "property":
            members.append(property_stub(value, name, 4))
        elif kind == "instancemethod":
            members.append(function_stub(value.__func__, name, 4, method=True))
        elif kind == "staticmethod":
            members.append(function_stub(value.__func__, name, 4, method=True, static=True))
        elif kind == "builtin_function_or_method":
            members.append(function_stub(value, name, 4, method=True))
    if not members:
        members.append("    ...\n")
    return out + "".join(members)


def make_stub(module):
    out = ['"""Type stubs of the attnpaths module, generated by python/make_stubs.py; do not edit."""\n',
           "from typing import " + ", ".join(TYPING) + ", overload\n\n",
           "import numpy\nfrom numpy.typing import NDArray\n\n",
           "__version__: str\n\n"]
    names = sorted(n for n in dir(module) if not n.startswith("__"))
    classes = [getattr(module, n) for n in names if isinstance(getattr(module, n), type)]
    # Bases first, then alphabetical (a stub may refer to later classes, not derive from them).
    for cls in classes:
        out.append(class_stub(cls) + "\n")
    for n in names:
        obj = getattr(module, n)
        if isinstance(obj, type):
            continue
        if callable(obj):
            out.append(function_stub(obj, n) + "\n")
        else:
            out.append(f"{n}: {type(obj).__name__}\n\n")
    return "".join(out).rstrip() + "\n"


def skeleton(text):
    """The stub without docstrings, normalised (names and signatures only)."""
    tree = ast.parse(text)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                isinstance(getattr(body[0], "value", None), ast.Constant) and \
                isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Expr(ast.Constant(...))]
    return ast.unparse(tree)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("module_dir", help="folder holding the built module (build/python)")
    p.add_argument("--check", metavar="STUB", help="compare this stub file with the module")
    a = p.parse_args()
    sys.path.insert(0, a.module_dir)
    module = importlib.import_module("attnpaths")
    stub = make_stub(module)
    if not a.check:
        sys.stdout.write(stub)
        return 0
    expected = skeleton(stub).splitlines()
    found = skeleton(open(a.check).read()).splitlines()
    if expected == found:
        print(f"{a.check}: matches the module ({len(expected)} lines of signatures)")
        return 0
    sys.stdout.writelines(l + "\n" for l in difflib.unified_diff(
        found, expected, a.check + " (names and signatures)", "the module", lineterm=""))
    print(f"\n{a.check} does not match the module; regenerate it with\n"
          f"  /usr/bin/python3 python/make_stubs.py {a.module_dir} > {a.check}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
