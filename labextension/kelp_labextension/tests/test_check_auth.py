"""Static check (like the extension template's check_auth.py): every HTTP verb of every handler class is
either `@tornado.web.authenticated` (browser face, pages) or `@kernel_secret_required` (kernel face), and
every class is routed (the relay's handlers.py and the kelp panel's panel.py). Run on the source, so a new handler without a guard fails here."""

import ast
from pathlib import Path

import kelp_labextension.handlers as handlers
import kelp_labextension.panel as panel

VERBS = {"get", "post", "put", "delete", "patch", "head", "options"}
GUARDS = {"tornado.web.authenticated", "authenticated", "kernel_secret_required"}


def _decorators(fn):
    for d in fn.decorator_list:
        yield ast.unparse(d)


def _verbs():
    classes = []
    for module in (handlers, panel):
        classes += [n for n in ast.parse(Path(module.__file__).read_text()).body if isinstance(n, ast.ClassDef)]
    for cls in classes:
        for fn in cls.body:
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name in VERBS:
                yield cls.name, fn.name, set(_decorators(fn))


def test_every_verb_is_guarded():
    found = list(_verbs())
    assert len(found) >= 10
    unguarded = [f"{c}.{v}" for c, v, decos in found if not decos & GUARDS]
    assert not unguarded, f"handler verbs without auth: {unguarded}"


def test_kernel_face_uses_the_secret_and_browser_face_uses_jupyter_auth():
    for cls, verb, decos in _verbs():
        if cls.startswith("Kernel"):
            assert "kernel_secret_required" in decos, f"{cls}.{verb}"
        else:
            assert decos & {"tornado.web.authenticated", "authenticated"}, f"{cls}.{verb}"


def test_every_routed_handler_was_checked():
    routed = {r[1].__name__ for r in handlers.routes("/", object(), "s") + panel.panel_routes("/", "/", "s")}
    assert {"IpfsAddHandler", "ActionHandler", "AssetsHandler"} <= routed
    checked = {c for c, _, _ in _verbs()}
    assert routed <= checked, routed - checked
