"""The import graph of the package has no circles.

Every import statement counts, function-local ones included: a circle
kept alive by importing late is still a circle, and the next change to it
fails at import time in some order nobody tried. The graph is read from
the source (no module is imported), so the test sees every module.
"""

import ast
import functools
import os
import pathlib

from glance.tests.unit import base

ROOT = pathlib.Path(__file__).resolve().parents[2]   # the glance package


def module_name(path):
    parts = list(path.relative_to(ROOT.parent).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def package_modules():
    """{module name: path} of every module of the package but its tests."""
    found = {}
    for path in ROOT.rglob('*.py'):
        name = module_name(path)
        if name != 'glance' and not name.startswith('glance.tests'):
            found[name] = path
    return found


def imported(tree, name, is_package, known):
    """The package modules the module ``name`` imports, anywhere in it."""
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = name.split('.')
                if not is_package:
                    base_parts.pop()
                base_parts = base_parts[:len(base_parts) - node.level + 1]
                source = '.'.join(base_parts + ([node.module]
                                                if node.module else []))
            else:
                source = node.module
            for alias in node.names:
                full = '%s.%s' % (source, alias.name)
                targets.add(full if full in known else source)
    # An import names a module or, failing that, the nearest package.
    resolved = set()
    for target in targets:
        while target and target not in known:
            target = target.rpartition('.')[0]
        if target and target != 'glance' and target != name:
            resolved.add(target)
    return resolved


@functools.lru_cache(maxsize=1)
def import_graph():
    modules = package_modules()
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        graph[name] = imported(tree, name, path.name == '__init__.py',
                               modules)
    return graph


def cycles(graph):
    """The strongly connected components with more than one node
    (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = [0]

    def visit(start):
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# The layers of the package, lowest first: a module may import from its
# own layer and the layers below it, never from one above.
LAYERS = (
    ('glance.version', 'glance.common', 'glance.context'),
    ('glance.db',),
    ('glance.store',),
    ('glance.notifier',),
    ('glance.domain',),
    ('glance.imports',),
    ('glance.scrubber', 'glance.replicator', 'glance.integrity',
     'glance.cache'),
    ('glance.api', 'glance.wsgi', 'glance.registry'),
    ('glance.cmd',),
)


def layer_of(name):
    for level, prefixes in enumerate(LAYERS):
        if any(name == p or name.startswith(p + '.') for p in prefixes):
            return level
    return None


class TestImportGraph(base.TestCase):

    def test_the_graph_is_read(self):
        graph = import_graph()
        # A few edges known to exist: the graph is not trivially empty.
        self.assertIn('glance.domain.images.records',
                      graph['glance.domain.images.data'])
        self.assertIn('glance.db.session', graph['glance.domain.tasks'])
        self.assertGreater(sum(len(e) for e in graph.values()), 200)

    def test_no_circles(self):
        found = cycles(import_graph())
        self.assertEqual([], found, 'import circles: %s' % found)

    def test_cycles_are_found(self):
        """The detector itself: a circle through a function-local import
        is reported."""
        tree = ast.parse('def f():\n    from glance.b import x\n')
        known = {'glance.a', 'glance.b', 'glance.b.x', 'glance.c'}
        graph = {'glance.a': imported(tree, 'glance.a', False, known),
                 'glance.b.x': {'glance.c'}, 'glance.c': {'glance.a'},
                 'glance.b': set()}
        self.assertEqual([['glance.a', 'glance.b.x', 'glance.c']],
                         cycles(graph))

    def test_every_module_has_a_layer(self):
        unplaced = [n for n in import_graph() if layer_of(n) is None]
        self.assertEqual([], unplaced)

    def test_no_module_imports_from_a_layer_above_its_own(self):
        upward = sorted(
            '%s -> %s' % (name, target)
            for name, targets in import_graph().items()
            for target in targets
            if layer_of(target) > layer_of(name))
        self.assertEqual([], upward)

    def test_relative_imports_resolve(self):
        tree = ast.parse('from . import sibling\nfrom .. import top\n')
        known = {'glance.pkg', 'glance.pkg.mod', 'glance.pkg.sibling',
                 'glance.top'}
        self.assertEqual({'glance.pkg.sibling', 'glance.top'},
                         imported(tree, 'glance.pkg.mod', False, known))
        self.assertTrue(os.path.isdir(ROOT))
