"""Every public class, function, method and property has a docstring, and the
worked session in docs/python.md runs and prints what the page shows."""
import doctest
import os
import re
import unittest

import attnpaths as ap

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get('ATTNPATHS_SOURCE_DIR', os.path.dirname(os.path.dirname(HERE)))


def has_text(doc, name):
    """True when `doc` holds more than pybind11's signature lines."""
    if not doc:
        return False
    for line in doc.strip().splitlines():
        line = line.strip()
        if not line or line == 'Overloaded function.':
            continue
        if re.match(r'^(\d+\. )?' + re.escape(name) + r'\(', line):
            continue
        return True
    return False


class Docstrings(unittest.TestCase):
    def test_module(self):
        self.assertTrue(has_text(ap.__doc__, 'attnpaths'))
        self.assertRegex(ap.__version__, r'^\d+\.\d+\.\d+$')

    def test_every_public_name(self):
        missing = []
        for name in sorted(dir(ap)):
            if name.startswith('_'):
                continue
            obj = getattr(ap, name)
            if not has_text(obj.__doc__, getattr(obj, '__name__', name)):
                missing.append(name)
            if not isinstance(obj, type):
                continue
            for attr, value in vars(obj).items():
                if attr.startswith('_') and attr not in ('__init__', '__repr__', '__eq__',
                                                         '__hash__', '__iter__', '__len__',
                                                         '__array__'):
                    continue
                if isinstance(value, property) or callable(value):
                    if not has_text(value.__doc__, attr):
                        missing.append(f'{name}.{attr}')
        self.assertEqual(missing, [])

    def test_overloads_are_documented_each(self):
        doc = ap.score_heads.__doc__
        self.assertIn('1. score_heads(arch', doc)
        self.assertIn('2. score_heads(paths', doc)
        self.assertIn('with head counts and', doc)
        self.assertIn('for the head counts of `paths`', doc)


class WorkedSession(unittest.TestCase):
    def test_docs_python_md(self):
        cwd = os.getcwd()
        os.chdir(SOURCE)
        try:
            failures, tests = doctest.testfile(
                os.path.join(SOURCE, 'docs', 'python.md'), module_relative=False,
                optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
        finally:
            os.chdir(cwd)
        self.assertGreater(tests, 30)
        self.assertEqual(failures, 0)


if __name__ == '__main__':
    unittest.main()
